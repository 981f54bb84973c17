package credhelper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/dockerconfig"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// NewCmdStore returns `berth credential-helper store`.
func NewCmdStore(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	run := storeRun
	if runF != nil {
		run = runF
	}
	return verbCmd(opts, "store", `Keep the credentials read from standard input ({"ServerURL","Username","Secret"})`,
		`  echo '{"ServerURL":"127.0.3.1:5000","Username":"ci-pull","Secret":"…"}' | docker-credential-berth store`, run)
}

func storeRun(_ context.Context, opts *Options) error {
	var c dockerconfig.Credentials
	if err := json.NewDecoder(io.LimitReader(opts.IO.In, 1<<20)).Decode(&c); err != nil {
		return fmt.Errorf("reading the credentials: %w", err)
	}
	switch {
	case c.ServerURL == "":
		return errors.New("no credentials server URL")
	case c.Username == "":
		return errors.New("no credentials username")
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	return cfg.SaveRegistryCredential(userconfig.RegistryCredential{ServerURL: c.ServerURL, Username: c.Username, Secret: c.Secret})
}

// NewCmdErase returns `berth credential-helper erase`.
func NewCmdErase(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	run := eraseRun
	if runF != nil {
		run = runF
	}
	return verbCmd(opts, "erase", "Forget the credentials for the server URL read from standard input",
		`  echo 127.0.3.1:5000 | docker-credential-berth erase`, run)
}

func eraseRun(_ context.Context, opts *Options) error {
	serverURL, err := readServerURL(opts.IO.In)
	if err != nil {
		return err
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	found, err := cfg.DeleteRegistryCredential(serverURL)
	if err != nil {
		return err
	}
	if !found {
		return errors.New(dockerconfig.NotFound)
	}
	return nil
}

// NewCmdList returns `berth credential-helper list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	run := listRun
	if runF != nil {
		run = runF
	}
	return verbCmd(opts, "list", "Print the server URLs credentials are kept for, with their user names",
		`  docker-credential-berth list`, run)
}

func listRun(_ context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	creds, err := cfg.RegistryCredentials()
	if err != nil {
		return err
	}
	out := map[string]string{}
	for _, c := range creds {
		out[c.ServerURL] = c.Username
	}
	return writeJSON(opts.IO.Out, out)
}

// NewCmdVersion returns `berth credential-helper version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	opts := newOptions(f)
	return verbCmd(opts, "version", "Print the helper's version", `  docker-credential-berth version`,
		func(_ context.Context, opts *Options) error {
			_, err := fmt.Fprintf(opts.IO.Out, "docker-credential-berth (berth) %s\n", opts.Version)
			return err
		})
}
