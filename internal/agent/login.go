package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/berth-project/berth/internal/regclient"
)

// registries holds a run's registry clients: one per login server the run
// has a credential for, logged in with it, and an anonymous one for every
// other registry. All leave from the agent's egress address, and reach the
// run's own registry at its private endpoint when the run has one.
type registries struct {
	e     *Executor
	job   Job
	sec   *secretSet
	opts  regclient.Options // egress, scheme and resolve; no credential
	order []string          // login servers, the run's own first
	creds map[string]*registryLogin
	anon  *regclient.Client
}

// registryLogin is a credential for one login server, turned into a
// client at its first use (an identity's token is exchanged then).
type registryLogin struct {
	cred   RegistryCredential
	once   sync.Once
	client *regclient.Client
	err    error
}

func newRegistries(e *Executor, job Job, sec *secretSet) *registries {
	opts := regclient.Options{Egress: e.Egress, PlainHTTP: e.PlainHTTP}
	if job.LoginServerAddress != "" {
		opts.Resolve = map[string]string{job.LoginServer: job.LoginServerAddress}
	}
	r := &registries{e: e, job: job, sec: sec, opts: opts, creds: map[string]*registryLogin{}, anon: regclient.New(opts)}
	add := func(c RegistryCredential) {
		if _, ok := r.creds[c.LoginServer]; !ok {
			r.order = append(r.order, c.LoginServer)
		}
		r.creds[c.LoginServer] = &registryLogin{cred: c}
	}
	if job.Steps.AuthMode != AuthModeNone && job.LoginServer != "" && job.Username != "" {
		add(RegistryCredential{LoginServer: job.LoginServer, Username: job.Username, Password: job.Password})
	}
	for _, c := range job.Steps.RegistryCredentials {
		if c.LoginServer != "" {
			add(c)
		}
	}
	return r
}

// client is the client for the registry at host: with the run's
// credential for it, or anonymous.
func (r *registries) client(ctx context.Context, host string) (*regclient.Client, error) {
	l, ok := r.creds[host]
	if !ok {
		return r.anon, nil
	}
	l.once.Do(func() { l.client, l.err = r.newClient(ctx, l.cred) })
	return l.client, l.err
}

// credentialed reports whether the run has a credential for host.
func (r *registries) credentialed(host string) bool {
	_, ok := r.creds[host]
	return ok
}

func (r *registries) newClient(ctx context.Context, c RegistryCredential) (*regclient.Client, error) {
	opts := r.opts
	switch {
	case c.Identity != "":
		if r.job.IdentityToken == nil {
			return nil, fmt.Errorf("the credential for %s is the identity %s, and the run has no identity tokens", c.LoginServer, c.Identity)
		}
		tok, err := r.job.IdentityToken(ctx, c.Identity)
		if err != nil {
			return nil, fmt.Errorf("getting a token of the identity %s: %w", c.Identity, err)
		}
		r.sec.add(tok)
		refresh, err := regclient.New(opts).Exchange(ctx, c.LoginServer, tok)
		if err != nil {
			return nil, fmt.Errorf("exchanging the identity %s's token at %s: %w", c.Identity, c.LoginServer, err)
		}
		r.sec.add(refresh)
		opts.Username, opts.Password = regclient.NullUser, refresh
	case c.Username != "":
		opts.Username, opts.Password = c.Username, c.Password
	default:
		return nil, fmt.Errorf("the credential for %s has neither an identity nor a user name", c.LoginServer)
	}
	return regclient.New(opts), nil
}

// login logs in to every registry the run has a credential for: the
// client is made (an identity's token exchanged) and /v2/ answers it.
func (r *registries) login(ctx context.Context, log *runLog) error {
	if r.job.LoginServerAddress != "" {
		log.printf("Reaching registry %s through its private endpoint at %s", r.job.LoginServer, r.job.LoginServerAddress)
	}
	for _, host := range r.order {
		log.printf("Logging in to registry: %s", host)
		c, err := r.client(ctx, host)
		if err == nil {
			err = c.Ping(ctx, host)
		}
		if err != nil {
			return fmt.Errorf("failed to log in to registry %s: %w", host, err)
		}
		log.printf("Successfully logged into %s", host)
	}
	return nil
}

var errNoCredential = errors.New("the run has no credential for it")
