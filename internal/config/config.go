// Package config is the typed configuration of berth serve: read from a
// YAML file, then overridden by flags, then validated once at start-up.
// A bad configuration is an error naming the key, never a panic.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything berth serve needs to start.
type Config struct {
	DataDir         string     `yaml:"dataDir"`
	Listen          []string   `yaml:"listen"`
	TLS             TLS        `yaml:"tls"`
	Insecure        bool       `yaml:"insecure"`
	Domain          string     `yaml:"domain"`
	Region          string     `yaml:"region"`
	DefaultRegistry string     `yaml:"defaultRegistry"`
	Registries      []Registry `yaml:"registries"`
	LogLevel        string     `yaml:"logLevel"`
	// CredentialCacheTTL is how long a checked password is remembered.
	CredentialCacheTTL time.Duration `yaml:"credentialCacheTTL"`
	ShutdownTimeout    time.Duration `yaml:"shutdownTimeout"`
	// PprofListen serves Go's profiler on its own address (empty: off).
	PprofListen string `yaml:"pprofListen"`
	// NetworkDocsURL is named in the message a request denied by a
	// registry's network rules gets.
	NetworkDocsURL string `yaml:"networkDocsURL"`
	// AgentPools are the public agent pools; their egress prefixes are
	// published as the service tag BerthTasks.<location>.
	AgentPools []AgentPool `yaml:"agentPools"`
	// TrustedProxies are the CIDRs (or addresses) of reverse proxies whose
	// X-Forwarded-For and Forwarded headers name the client; from any
	// other peer they are ignored and the TCP peer is the client. They are
	// parsed, and refused when malformed, by netrules.ParseProxies when the
	// server starts.
	TrustedProxies []string `yaml:"trustedProxies"`
	// Agent is the build agent berth serve runs in process.
	Agent Agent `yaml:"agent"`
	// ReloadInterval is how often a replica checks the metadata store for
	// changed registries, network rules and private endpoints.
	ReloadInterval time.Duration `yaml:"reloadInterval"`
	// RunLeaseDuration is how long an agent holds a run without a
	// heartbeat (agents beat every third of it): how soon a run whose
	// agent died ends as Error.
	RunLeaseDuration time.Duration `yaml:"runLeaseDuration"`
	// GCGracePeriod is how long a blob that no manifest, run log or build
	// context references is kept after it was last pushed or linked, before
	// online garbage collection deletes it. It must be longer than a
	// client takes between pushing a layer and pushing its manifest.
	GCGracePeriod time.Duration `yaml:"gcGracePeriod"`
	// GCInterval is how often each replica looks for garbage blobs.
	GCInterval time.Duration `yaml:"gcInterval"`
}

// AgentPool is a public agent pool of a region.
type AgentPool struct {
	Name           string   `yaml:"name"`
	Location       string   `yaml:"location"`
	EgressPrefixes []string `yaml:"egressPrefixes"`
	// Token is what the pool's agents present to the agent API. Empty:
	// the server generates one into <dataDir>/agent-token (the pool named
	// local) or <dataDir>/agent-token.<name>, and keeps it across restarts.
	Token string `yaml:"token"`
}

// Agent configures the in-process build agent. Its BuildKit daemon is
// started at the first run it leases (state under <dataDir>/agent/buildkit), so
// an idle server costs nothing.
type Agent struct {
	// Enabled runs the agent (default true).
	Enabled bool `yaml:"enabled"`
	// Pool is the agent pool it serves (default "local").
	Pool string `yaml:"pool"`
	// Egress is the address every registry connection of its runs leaves
	// from (default 127.0.1.10, inside the local pool's egress prefix).
	Egress string `yaml:"egress"`
	// BuildkitAddr uses a running buildkitd instead of starting one.
	BuildkitAddr string `yaml:"buildkitAddr"`
}

// TLS names the certificate and key of the listeners.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Registry is a registry created at start-up if it does not exist.
type Registry struct {
	Name        string `yaml:"name"`
	LoginServer string `yaml:"loginServer"`
	Location    string `yaml:"location"`
}

// Default is the embedded default: SQLite and files under ./berth-data,
// one registry on 127.0.0.1:5000.
func Default() Config {
	return Config{
		DataDir:            "berth-data",
		Listen:             []string{"127.0.0.1:5000"},
		Region:             "local",
		DefaultRegistry:    "default",
		LogLevel:           "info",
		CredentialCacheTTL: time.Minute,
		ShutdownTimeout:    20 * time.Second,
		NetworkDocsURL:     "docs/network.md",
		AgentPools:         []AgentPool{{Name: "local", Location: "local", EgressPrefixes: []string{"127.0.1.0/24"}}},
		ReloadInterval:     250 * time.Millisecond,
		RunLeaseDuration:   30 * time.Second,
		GCGracePeriod:      time.Hour,
		GCInterval:         time.Minute,
		Agent:              Agent{Enabled: true, Pool: "local", Egress: "127.0.1.10"},
	}
}

// Load reads a YAML file over the defaults. Unknown keys are errors.
func Load(path string) (Config, error) {
	c := Default()
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

var registryName = regexp.MustCompile(`^[a-z0-9]{5,50}$`)

// agentPoolName is the grammar of a pool name, which names a token file.
var agentPoolName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidRegistryName reports whether s is 5–50 lowercase letters and digits.
func ValidRegistryName(s string) bool { return registryName.MatchString(s) }

// Validate checks the whole configuration and says what is wrong.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("dataDir: must not be empty"))
	}
	if len(c.Listen) == 0 {
		errs = append(errs, errors.New("listen: at least one address is needed"))
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		errs = append(errs, errors.New("tls: give both cert and key, or neither"))
	}
	for _, a := range c.Listen {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("listen %q: %v", a, err))
			continue
		}
		if c.TLS.Cert == "" && !c.Insecure && !loopback(host) {
			errs = append(errs, fmt.Errorf("listen %q: plain HTTP on a non-loopback address is refused; give --tls-cert and --tls-key, or --insecure", a))
		}
	}
	if !ValidRegistryName(c.DefaultRegistry) {
		errs = append(errs, fmt.Errorf("defaultRegistry %q: want 5-50 lowercase letters and digits", c.DefaultRegistry))
	}
	seen := map[string]bool{}
	for i, r := range c.Registries {
		if !ValidRegistryName(r.Name) {
			errs = append(errs, fmt.Errorf("registries[%d].name %q: want 5-50 lowercase letters and digits", i, r.Name))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("registries[%d].name %q: listed twice", i, r.Name))
		}
		seen[r.Name] = true
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("logLevel %q: want debug, info, warn or error", c.LogLevel))
	}
	pools, tokens := map[string]bool{}, map[string]bool{}
	for i, p := range c.AgentPools {
		if !agentPoolName.MatchString(p.Name) {
			errs = append(errs, fmt.Errorf("agentPools[%d].name %q: want 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", i, p.Name))
		}
		if pools[p.Name] {
			errs = append(errs, fmt.Errorf("agentPools[%d].name %q: listed twice", i, p.Name))
		}
		pools[p.Name] = true
		if p.Token != "" && tokens[p.Token] {
			errs = append(errs, fmt.Errorf("agentPools[%d].token: another pool has the same token; each pool needs its own", i))
		}
		tokens[p.Token] = true
	}
	if c.Agent.Enabled {
		if a, err := netip.ParseAddr(c.Agent.Egress); err != nil || !a.Is4() {
			errs = append(errs, fmt.Errorf("agent.egress %q: want an IPv4 address", c.Agent.Egress))
		}
		found := false
		for _, p := range c.AgentPools {
			found = found || p.Name == c.Agent.Pool
		}
		if !found {
			errs = append(errs, fmt.Errorf("agent.pool %q: no such agent pool in agentPools", c.Agent.Pool))
		}
	}
	if c.ReloadInterval <= 0 || c.ReloadInterval > time.Second {
		errs = append(errs, errors.New("reloadInterval: want more than 0 and at most 1s"))
	}
	// The agent API tells agents the lease in whole seconds.
	if c.RunLeaseDuration < time.Second {
		errs = append(errs, errors.New("runLeaseDuration: want at least 1s"))
	}
	if c.CredentialCacheTTL < 0 {
		errs = append(errs, errors.New("credentialCacheTTL: must not be negative"))
	}
	if c.GCGracePeriod < 0 {
		errs = append(errs, errors.New("gcGracePeriod: must not be negative"))
	}
	if c.GCInterval <= 0 {
		errs = append(errs, errors.New("gcInterval: want more than 0"))
	}
	return errors.Join(errs...)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
