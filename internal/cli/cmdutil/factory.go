// Package cmdutil is what every berth command is built from: the Factory
// that gives a command its streams, the user's config and an API client;
// the -o/--output and --query flags and Print, which renders a result as
// json, jsonc, table, tsv, yaml or nothing; the default-registry lookup;
// and CallAndPrint and Call, which make a command of one call to the server.
// It reaches the server only through pkg/client and imports no server
// package.
package cmdutil

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/pkg/client"
)

// Factory gives commands what they need, lazily: a command that fails on a
// flag never reads the config. Tests build one with their own streams and a
// config directory of their own (see NewFactory).
type Factory struct {
	IOStreams *IOStreams
	// Version is the CLI's version, sent in the User-Agent.
	Version string
	// Config returns the user's config, loaded once.
	Config func() (*userconfig.Config, error)
	// Client returns a client for the effective server (--server at login,
	// BERTH_SERVER, config.yaml, or the embedded default) that sends the
	// identity token kept for that server.
	Client func() (*client.Client, error)
}

// NewFactory returns a Factory on io whose config lives in configDir
// ("" means userconfig.Dir(): $BERTH_CONFIG_DIR or the OS's user config
// directory).
func NewFactory(io *IOStreams, configDir, version string) *Factory {
	f := &Factory{IOStreams: io, Version: version}
	f.Config = sync.OnceValues(func() (*userconfig.Config, error) {
		dir := configDir
		if dir == "" {
			var err error
			if dir, err = userconfig.Dir(); err != nil {
				return nil, err
			}
		}
		return userconfig.Load(dir)
	})
	f.Client = func() (*client.Client, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		server, err := cfg.Server()
		if err != nil {
			return nil, err
		}
		return f.NewClient(server, loginToken(cfg, server))
	}
	return f
}

// NewClient returns a client for server with the CLI's User-Agent; tokens
// may be nil (as for login).
func (f *Factory) NewClient(server string, tokens client.TokenSource) (*client.Client, error) {
	opts := []client.Option{client.WithUserAgent("berth-cli/" + f.Version)}
	if tokens != nil {
		opts = append(opts, client.WithTokenSource(tokens))
	}
	return client.New(server, opts...)
}

// loginToken gives the identity token kept for server, read when the first
// request is sent, and says what to run when there is none or it expired.
func loginToken(cfg *userconfig.Config, server string) client.TokenSource {
	return client.TokenSourceFunc(func(context.Context) (string, error) {
		l, ok, err := cfg.Login(server)
		switch {
		case err != nil:
			return "", err
		case !ok:
			return "", fmt.Errorf("not logged in to %s: run `berth login`", server)
		case l.Expired(time.Now()):
			return "", fmt.Errorf("the login to %s expired at %s: run `berth login`", server, l.ExpiresAt.Local().Format(time.DateTime))
		}
		return l.Token, nil
	})
}

// RegistryName returns the registry a command works on: flagValue when the
// -r/--registry flag was given, else defaults.registry.
func (f *Factory) RegistryName(flagValue string) (string, error) {
	return f.RegistryNameFlag("--registry", flagValue)
}

// RegistryNameFlag is RegistryName for a command whose registry flag has
// another name (-n/--name in `berth registry` commands), named in the error.
func (f *Factory) RegistryNameFlag(flag, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	cfg, err := f.Config()
	if err != nil {
		return "", err
	}
	name, err := cfg.DefaultRegistry()
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", fmt.Errorf("no registry given: give %s or run `berth config set defaults.registry=NAME`", flag)
	}
	return name, nil
}
