package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
)

type serveOptions struct {
	configFile string
	dataDir    string
	listen     []string
	tlsCert    string
	tlsKey     string
	insecure   bool
	domain     string
	logLevel   string
	pprof      string
	proxies    []string
	docsURL    string
}

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the berth server",
		Long: `Run the berth server: the registry's data plane (/v2/), health (/healthz,
/readyz) and metrics (/metrics).

With no flags it starts the embedded default: SQLite metadata and filesystem
blobs under ./berth-data, one registry named "default" on 127.0.0.1:5000 over
plain HTTP. Plain HTTP on a non-loopback address is refused unless --insecure
is given; use --tls-cert and --tls-key for HTTPS.

The bootstrap owner is "admin". Its password is BERTH_ADMIN_PASSWORD when set;
otherwise a random one is generated at first start and printed once.`,
		Example: `  berth serve
  berth serve --listen 127.0.0.1:5000 --listen 127.0.3.1:5000
  BERTH_ADMIN_PASSWORD=secret berth serve --data-dir /var/lib/berth
  berth serve --listen 0.0.0.0:443 --tls-cert cert.pem --tls-key key.pem
  berth serve --config berth.yaml
  berth serve --listen 0.0.0.0:443 --tls-cert cert.pem --tls-key key.pem --trusted-proxy 10.0.0.0/24`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "YAML config file (flags override it)")
	f.StringVar(&o.dataDir, "data-dir", "", `data directory (default "berth-data")`)
	f.StringArrayVar(&o.listen, "listen", nil, `address to listen on, repeatable (default "127.0.0.1:5000")`)
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP on non-loopback addresses")
	f.StringVar(&o.domain, "domain", "", "domain under which registries are <name>.<domain>")
	f.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error (default info)")
	f.StringVar(&o.pprof, "pprof-listen", "", "serve Go's profiler (/debug/pprof/) on this address")
	f.StringArrayVar(&o.proxies, "trusted-proxy", nil, "address or CIDR of a reverse proxy whose X-Forwarded-For and Forwarded headers name the client, repeatable")
	f.StringVar(&o.docsURL, "network-docs-url", "", `URL named in the 403 of a request refused by network rules (default "docs/network.md")`)
	return cmd
}

func (o *serveOptions) config() (config.Config, error) {
	cfg := config.Default()
	if o.configFile != "" {
		var err error
		if cfg, err = config.Load(o.configFile); err != nil {
			return cfg, err
		}
	}
	if o.dataDir != "" {
		cfg.DataDir = o.dataDir
	}
	if len(o.listen) > 0 {
		cfg.Listen = o.listen
	}
	if o.tlsCert != "" || o.tlsKey != "" {
		cfg.TLS = config.TLS{Cert: o.tlsCert, Key: o.tlsKey}
	}
	if o.insecure {
		cfg.Insecure = true
	}
	if o.domain != "" {
		cfg.Domain = o.domain
	}
	if o.logLevel != "" {
		cfg.LogLevel = o.logLevel
	}
	if o.pprof != "" {
		cfg.PprofListen = o.pprof
	}
	if len(o.proxies) > 0 {
		cfg.TrustedProxies = o.proxies
	}
	if o.docsURL != "" {
		cfg.NetworkDocsURL = o.docsURL
	}
	return cfg, cfg.Validate()
}

func (o *serveOptions) run(cmd *cobra.Command) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv, err := app.New(ctx, cfg, log, os.Getenv("BERTH_ADMIN_PASSWORD"), cmd.OutOrStdout())
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
