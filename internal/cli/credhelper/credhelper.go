// Package credhelper is docker-credential-berth: a docker credential helper
// (https://github.com/docker/docker-credential-helpers protocol: get, store,
// erase, list) that docker, podman, crane, oras, regctl, skopeo and helm
// call for a registry's credentials. It runs as the hidden `berth
// credential-helper <verb>` and as cmd/docker-credential-berth.
//
// What it gives for a berth login server is a registry refresh token
// (user name 00000000-0000-0000-0000-000000000000), kept per login server in
// the berth config directory and renewed by itself: when there is none, or
// the one kept expires within 10 minutes, it exchanges the identity token of
// `berth login` again. It sends that identity token only to login servers
// that the berth server lists, never to other registries.
package credhelper

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/pkg/client"
)

// RenewBefore is how long before its expiry a kept refresh token is renewed.
const RenewBefore = 10 * time.Minute

// Options are the inputs of the credential helper's verbs.
type Options struct {
	IO     *cmdutil.IOStreams
	Config func() (*userconfig.Config, error)
	// Client returns a client of the configured berth server that sends the
	// identity token of `berth login`.
	Client  func() (*client.Client, error)
	Now     func() time.Time
	Version string
}

// NewCmdCredentialHelper returns the hidden `berth credential-helper`.
func NewCmdCredentialHelper(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "credential-helper",
		Short:  "The docker credential helper docker-credential-berth",
		Hidden: true,
		Long: `The docker credential helper protocol, as docker-credential-berth speaks it.
Use it by putting docker-credential-berth on PATH and naming it in docker's
config.json: "credsStore": "berth", or "credHelpers": {"<login server>":
"berth"}. Then "berth login" is all a client needs: tokens for berth's login
servers are made and renewed on demand.`,
		Example: `  echo 127.0.3.1:5000 | docker-credential-berth get
  docker-credential-berth list`,
	}
	cmd.AddCommand(NewCmdGet(f, nil), NewCmdStore(f, nil), NewCmdErase(f, nil), NewCmdList(f, nil), NewCmdVersion(f))
	return cmd
}

func newOptions(f *cmdutil.Factory) *Options {
	return &Options{IO: f.IOStreams, Config: f.Config, Client: f.Client, Now: time.Now, Version: f.Version}
}

// verbCmd is one verb. The protocol wants errors on standard output alone
// (where the client reads them, "credentials not found in native keychain"
// above all) and a non-zero exit. Clients pass the helper's standard error
// through to their user, and they ask for keys that are not registries
// ("host/repo") as a matter of course: nothing goes there.
func verbCmd(opts *Options, use, short, example string, run func(context.Context, *Options) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Example: example,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := run(cmd.Context(), opts)
			if err != nil {
				fmt.Fprintln(opts.IO.Out, err.Error())
				return &cmdutil.SilentError{Err: err}
			}
			return nil
		},
	}
}

// readServerURL reads the server URL that get and erase receive.
func readServerURL(in io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, 64<<10))
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", errors.New("no server URL on standard input")
	}
	return s, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// tokenExpiry reads a JWT's exp without checking its signature: only the
// server checks tokens, the helper just wants to renew before it must.
func tokenExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(b, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	exp, err := claims.Exp.Float64()
	if err != nil || exp <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(exp), 0), true
}
