package credhelper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/dockerconfig"
	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdGet returns `berth credential-helper get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	run := getRun
	if runF != nil {
		run = runF
	}
	return verbCmd(opts, "get", "Print the credentials for the server URL read from standard input",
		`  echo 127.0.3.1:5000 | docker-credential-berth get`, run)
}

func getRun(ctx context.Context, opts *Options) error {
	serverURL, err := readServerURL(opts.IO.In)
	if err != nil {
		return err
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	kept, found, err := cfg.RegistryCredential(serverURL)
	if err != nil {
		return err
	}
	now := opts.Now()
	exp, isJWT := tokenExpiry(kept.Secret)
	if found && (kept.Username != client.NullUser || !isJWT || exp.Sub(now) > RenewBefore) {
		return printCredentials(opts, serverURL, kept.Username, kept.Secret)
	}

	key := userconfig.RegistryKey(serverURL)
	if !found && strings.ContainsAny(key, "/?#@") {
		// host/repository, or Docker Hub's https://index.docker.io/v1/:
		// never a login server, so not worth asking the server about.
		return errors.New(dockerconfig.NotFound)
	}
	secret, renewErr := renew(ctx, opts, key)
	if renewErr == nil {
		err := cfg.SaveRegistryCredential(userconfig.RegistryCredential{ServerURL: serverURL, Username: client.NullUser, Secret: secret})
		if err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "Warning: keeping the renewed token for %s: %v\n", serverURL, err)
		}
		return printCredentials(opts, serverURL, client.NullUser, secret)
	}
	switch {
	case !found:
		// Not a berth registry, or no berth login: the client goes on
		// anonymously, or with what else it has.
		return errors.New(dockerconfig.NotFound)
	case now.Before(exp):
		fmt.Fprintf(opts.IO.ErrOut, "Warning: the token for %s expires at %s and could not be renewed: %v\n",
			serverURL, exp.Local().Format("15:04:05"), renewErr)
		return printCredentials(opts, serverURL, kept.Username, kept.Secret)
	}
	return fmt.Errorf("the registry token for %s expired and could not be renewed (run `berth login`): %v", serverURL, renewErr)
}

func printCredentials(opts *Options, serverURL, username, secret string) error {
	return writeJSON(opts.IO.Out, dockerconfig.Credentials{ServerURL: serverURL, Username: username, Secret: secret})
}

// errNotBerth says a registry is not one of the berth server's.
var errNotBerth = errors.New("not a login server of the berth server")

// renew exchanges the identity token of `berth login` for a refresh token
// for loginServer, after checking that loginServer belongs to the berth
// server: the identity token must not go to any other registry.
func renew(ctx context.Context, opts *Options, loginServer string) (string, error) {
	c, err := opts.Client()
	if err != nil {
		return "", err
	}
	if loginServer != c.Host() {
		regs, err := c.Registries().List(ctx)
		if err != nil {
			return "", err
		}
		if !slices.ContainsFunc(regs, func(r client.Registry) bool { return r.Properties.LoginServer == loginServer }) {
			return "", errNotBerth
		}
	}
	return c.Exchange(ctx, loginServer)
}
