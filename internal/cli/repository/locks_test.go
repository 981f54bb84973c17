package repository

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/auth"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/internal/testserver"
	"github.com/berth-project/berth/pkg/client"
)

// realEnv is a user logged in as the admin to a real `berth serve`.
type realEnv struct {
	t   *testing.T
	srv *testserver.Server
	f   *cmdutil.Factory
	out *bytes.Buffer
}

func newRealEnv(t *testing.T) *realEnv {
	srv := testserver.Start(t, testserver.Opts{})
	t.Setenv("BERTH_SERVER", srv.URL)
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "")
	t.Setenv(userconfig.EnvDir, "")
	ios, _, out, _ := cmdutil.Test()
	e := &realEnv{t: t, srv: srv, f: cmdutil.NewFactory(ios, t.TempDir(), "test"), out: out}
	e.run(auth.NewCmdLogin(e.f, nil), "--server", srv.URL, "-u", testserver.AdminUser, "-p", srv.Password)
	return e
}

// exec runs a command and returns its output and error.
func (e *realEnv) exec(cmd *cobra.Command, args ...string) (string, error) {
	e.out.Reset()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	return e.out.String(), err
}

func (e *realEnv) run(cmd *cobra.Command, args ...string) string {
	e.t.Helper()
	out, err := e.exec(cmd, args...)
	if err != nil {
		e.t.Fatalf("%s %v: %v", cmd.Name(), args, err)
	}
	return out
}

// denied runs a command that a lock must refuse, with the registry's error.
func (e *realEnv) denied(lock string, cmd *cobra.Command, args ...string) {
	e.t.Helper()
	_, err := e.exec(cmd, args...)
	ce, ok := client.AsError(err)
	if !ok || ce.Status != http.StatusForbidden || ce.Code != "DENIED" || !strings.Contains(ce.Message, lock+" is false") {
		e.t.Fatalf("%s %v: error %#v, want 403 DENIED naming %s", cmd.Name(), args, err, lock)
	}
}

// registryToken is what `berth registry login` would store for the
// default registry, reached at the server's address.
func (e *realEnv) registryToken() string {
	c, err := e.f.Client()
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := c.Exchange(context.Background(), c.Host())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// push pushes an image with an empty config of its own (told apart by
// created) as repo:tag, as docker would, and returns the registry's status
// and body for the manifest PUT and the manifest's digest.
func (e *realEnv) push(token, repo, tag, created string) (int, string, string) {
	e.t.Helper()
	do := func(method, u, contentType string, body []byte) *http.Response {
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			e.t.Fatal(err)
		}
		req.SetBasicAuth(client.NullUser, token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		return resp
	}
	config := []byte(`{"architecture":"amd64","os":"linux","created":"` + created + `","rootfs":{"type":"layers","diff_ids":[]}}`)
	configDigest := digestOf(config)
	resp := do("POST", e.srv.URL+"/v2/"+repo+"/blobs/uploads/", "", nil)
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusAccepted || err != nil {
		e.t.Fatalf("starting an upload: %d %v", resp.StatusCode, err)
	}
	q := loc.Query()
	q.Set("digest", configDigest)
	loc.RawQuery = q.Encode()
	resp = do("PUT", loc.String(), "application/octet-stream", config)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("uploading the config: %d", resp.StatusCode)
	}
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, configDigest, len(config)))
	resp = do("PUT", e.srv.URL+"/v2/"+repo+"/manifests/"+url.PathEscape(tag), "application/vnd.oci.image.manifest.v1+json", manifest)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), digestOf(manifest)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestLocksAgainstServer locks a tag with `berth repository update` and
// sees a real server refuse a push over it and its delete, with the
// registry's own error, until the lock is lifted.
func TestLocksAgainstServer(t *testing.T) {
	e := newRealEnv(t)
	tok := e.registryToken()
	f := e.f
	r := []string{"-r", "default"}

	status, body, first := e.push(tok, "lib/app", "v1", "2026-01-01T00:00:00Z")
	if status != http.StatusCreated {
		t.Fatalf("first push: %d %s", status, body)
	}
	if out := e.run(NewCmdShowTags(f), append(r, "--repository", "lib/app", "-o", "tsv")...); out != "v1\n" {
		t.Fatalf("show-tags: %q, want v1", out)
	}

	// writeEnabled=false: a push of other content to the tag is refused.
	out := e.run(NewCmdUpdate(f), append(r, "--image", "lib/app:v1", "--write-enabled", "false", "--query", "changeableAttributes.writeEnabled", "-o", "tsv")...)
	if out != "false\n" {
		t.Fatalf("update printed %q, want writeEnabled false", out)
	}
	status, body, _ = e.push(tok, "lib/app", "v1", "2026-02-02T00:00:00Z")
	if status != http.StatusForbidden || !strings.Contains(body, `"DENIED"`) || !strings.Contains(body, "writeEnabled is false") {
		t.Fatalf("push over a write-locked tag: %d %s, want 403 DENIED naming writeEnabled", status, body)
	}
	if out := e.run(NewCmdShow(f), append(r, "--image", "lib/app:v1", "--query", "digest", "-o", "tsv")...); out != first+"\n" {
		t.Fatalf("after the refused push v1 is %q, want %s", out, first)
	}

	// Write enabled again, delete disabled: the push works, deletes do not.
	e.run(NewCmdUpdate(f), append(r, "--image", "lib/app:v1", "--write-enabled", "true", "--delete-enabled", "false", "-o", "none")...)
	status, body, second := e.push(tok, "lib/app", "v1", "2026-02-02T00:00:00Z")
	if status != http.StatusCreated {
		t.Fatalf("push after the write lock was lifted: %d %s", status, body)
	}
	e.denied("deleteEnabled", NewCmdDelete(f), append(r, "--image", "lib/app:v1", "--yes")...)
	e.denied("deleteEnabled", NewCmdUntag(f), append(r, "--image", "lib/app:v1")...)
	if out := e.run(NewCmdShow(f), append(r, "--image", "lib/app:v1", "--query", "digest", "-o", "tsv")...); out != second+"\n" {
		t.Fatalf("after the refused delete v1 is %q, want %s", out, second)
	}

	// Delete enabled again: delete by tag takes the manifest and its tags.
	e.run(NewCmdUpdate(f), append(r, "--image", "lib/app:v1", "--delete-enabled", "true", "-o", "none")...)
	e.run(NewCmdDelete(f), append(r, "--image", "lib/app:v1", "--yes")...)
	if out := e.run(NewCmdShowTags(f), append(r, "--repository", "lib/app", "-o", "tsv")...); out != "" {
		t.Fatalf("show-tags after the delete: %q, want none", out)
	}
	_, err := e.exec(NewCmdShow(f), append(r, "--image", "lib/app@"+second)...)
	if ce, ok := client.AsError(err); !ok || ce.Code != "MANIFEST_UNKNOWN" {
		t.Fatalf("show of the deleted manifest: %v, want MANIFEST_UNKNOWN", err)
	}
	// The first manifest, untagged by the second push, is still there.
	if out := e.run(NewCmdShowManifests(f), append(r, "--repository", "lib/app", "--query", "[].digest", "-o", "tsv")...); out != first+"\n" {
		t.Fatalf("show-manifests: %q, want %s", out, first)
	}
}
