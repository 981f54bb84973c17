package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/pkg/client"
)

// TestRunIdentityToken plays the agent of a task run: it gets an identity
// token of the task's system-assigned identity for the run, exchanges it
// at the registry while the run lives, and is refused once it has ended.
func TestRunIdentityToken(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	srv, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	anon, _ := client.New(hs.URL)
	login, err := anon.Login(ctx, client.LoginRequest{Username: "admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := client.New(hs.URL, client.WithTokenSource(client.StaticToken(login.AccessToken)))
	tasks := owner.Tasks("default")
	if _, err := tasks.Create(ctx, "idtask", client.TaskCreate{Identities: []string{"[system]"}, Timeout: 600,
		Step: client.TaskStep{Cmd: "base/busybox:1 true", ContextPath: "/dev/null"}}); err != nil {
		t.Fatal(err)
	}
	queued := time.Now()
	if _, err := tasks.Run(ctx, "idtask", client.TaskRunRequest{}); err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, "agent-token"))
	if err != nil {
		t.Fatal(err)
	}
	ag, _ := client.New(hs.URL, client.WithTokenSource(client.StaticToken(strings.TrimSpace(string(tok)))))
	lease, err := ag.Agent().Lease(ctx, "test-agent", time.Second)
	if err != nil || lease == nil {
		t.Fatalf("lease: %v, %v", lease, err)
	}
	if _, err := ag.Agent().IdentityToken(ctx, lease, "someone-else"); err == nil || !strings.Contains(err.Error(), "not assigned") {
		t.Errorf("an identity the task lacks: %v", err)
	}
	id, err := ag.Agent().IdentityToken(ctx, lease, "[system]")
	if err != nil {
		t.Fatal(err)
	}
	if limit := queued.Add(11 * time.Minute); id.ExpiresAt.After(limit) {
		t.Errorf("the run's identity token expires at %s, after the run's timeout and a minute (%s)", id.ExpiresAt, limit)
	}
	exchange := func() (int, string) {
		form := url.Values{"grant_type": {"access_token"}, "service": {strings.TrimPrefix(hs.URL, "http://")}, "access_token": {id.Token}}
		resp, err := http.PostForm(hs.URL+"/oauth2/exchange", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := exchange(); status != 200 || !strings.Contains(body, "refresh_token") {
		t.Fatalf("exchange while the run lives: %d %s", status, body)
	}
	if err := ag.Agent().Complete(ctx, lease, client.RunOutcome{Status: client.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
	if status, body := exchange(); status != 401 || !strings.Contains(body, "which has ended") {
		t.Errorf("exchange after the run ended: %d %s, want 401", status, body)
	}
}
