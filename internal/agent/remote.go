package agent

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

// Remote is the API over HTTP: the server's /agent/v1/, called with the
// pool's token through pkg/client.
type Remote struct {
	Agent client.Agent
	Name  string // the agent's name, as runs show it
	// Server is the server's URL, for built-in commands of runs.
	Server string
	Wait   time.Duration // how long one lease call waits (at most the server's 20 s)

	mu    sync.Mutex
	lease map[*Lease]*leased
}

type leased struct {
	l   *client.AgentLease
	seq int64 // the last log chunk's number
}

var _ API = (*Remote)(nil)

func (r *Remote) handle(l *Lease) *leased {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lease[l]
}

// Lease implements API.
func (r *Remote) Lease(ctx context.Context) (*Lease, error) {
	wait := r.Wait
	if wait == 0 {
		wait = 20 * time.Second
	}
	cl, err := r.Agent.Lease(ctx, r.Name, wait)
	if err != nil || cl == nil {
		return nil, err
	}
	run := cl.Run
	l := &Lease{Registry: run.Registry, RunID: run.RunID, LeaseID: cl.LeaseID,
		Duration: time.Duration(cl.LeaseSeconds) * time.Second,
		Job: Job{RunID: run.RunID, LoginServer: run.LoginServer, Images: run.Images, Dockerfile: run.Dockerfile,
			BuildArgs: run.BuildArgs, SecretBuildArgs: run.SecretBuildArgs, Target: run.Target, Platform: run.Platform,
			Push: run.Push, BuildTimeout: time.Duration(run.Timeout) * time.Second}}
	if c := run.Credentials; c != nil {
		l.Job.Username, l.Job.Password = c.Username, c.Password
	}
	l.Job.LoginServerAddress = run.LoginServerAddress
	l.Job.Registry, l.Job.ServerURL = run.Registry, r.Server
	if st := run.Steps; st != nil {
		l.Job.Steps = stepsOf(st)
		l.Job.RunTimeout, l.Job.BuildTimeout = l.Job.BuildTimeout, 0
		l.Job.IdentityToken = func(ctx context.Context, identity string) (string, error) {
			t, err := r.Agent.IdentityToken(ctx, cl, identity)
			return t.Token, err
		}
	}
	r.mu.Lock()
	if r.lease == nil {
		r.lease = map[*Lease]*leased{}
	}
	r.lease[l] = &leased{l: cl}
	r.mu.Unlock()
	return l, nil
}

// stepsOf is the agent's copy of a lease's steps.
func stepsOf(st *client.AgentSteps) *Steps {
	s := &Steps{TaskName: st.TaskName, TaskFile: st.TaskFile, Cmd: st.Cmd, Values: st.Values,
		SecretValues: st.SecretValues, Context: st.Context, AuthMode: st.AuthMode, Date: st.Date,
		Trigger: st.Trigger, TriggeredBy: st.TriggeredBy}
	if d := st.Docker; d != nil {
		s.Docker = &DockerStep{Images: d.Images, Dockerfile: d.Dockerfile}
	}
	for _, c := range st.RegistryCredentials {
		s.RegistryCredentials = append(s.RegistryCredentials, RegistryCredential{
			LoginServer: c.LoginServer, Identity: c.Identity, Username: c.Username, Password: c.Password})
	}
	return s
}

// Source implements API.
func (r *Remote) Source(ctx context.Context, l *Lease) (io.ReadCloser, error) {
	return r.Agent.OpenContext(ctx, r.handle(l).l)
}

// Running implements API.
func (r *Remote) Running(ctx context.Context, l *Lease) error {
	_, err := r.Agent.SetRunning(ctx, r.handle(l).l)
	return err
}

// Heartbeat implements API.
func (r *Remote) Heartbeat(ctx context.Context, l *Lease) (bool, error) {
	b, err := r.Agent.Heartbeat(ctx, r.handle(l).l)
	return b.CancelRequested, err
}

// Log implements API: chunks are numbered so that a retry is not written
// twice.
func (r *Remote) Log(ctx context.Context, l *Lease, chunk []byte) error {
	h := r.handle(l)
	r.mu.Lock()
	h.seq++
	seq := h.seq
	r.mu.Unlock()
	for len(chunk) > 0 {
		n := min(len(chunk), 1<<20)
		if _, err := r.Agent.AppendLog(ctx, h.l, seq, chunk[:n]); err != nil {
			return err
		}
		chunk = chunk[n:]
		if len(chunk) > 0 {
			r.mu.Lock()
			h.seq++
			seq = h.seq
			r.mu.Unlock()
		}
	}
	return nil
}

// Complete implements API and forgets the lease.
func (r *Remote) Complete(ctx context.Context, l *Lease, status string, res Result) error {
	h := r.handle(l)
	o := client.RunOutcome{Status: status, Error: res.Error}
	for _, img := range res.Outputs {
		o.OutputImages = append(o.OutputImages, client.OutputImage{Registry: img.Registry, Repository: img.Repository, Tag: img.Tag, Digest: string(img.Digest)})
	}
	if len(res.Dependencies) > 0 {
		o.Dependencies = res.Dependencies
	}
	err := r.Agent.Complete(ctx, h.l, o)
	r.mu.Lock()
	delete(r.lease, l)
	r.mu.Unlock()
	return err
}
