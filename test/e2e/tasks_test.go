package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to age the store's content

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/testserver"
)

// SCENARIOS.md S2.3, S3 and S4: tasks that reach a firewalled registry
// only through an identity the owner granted, with the real CLI, the real
// server and its in-process agent on BuildKit.

// taskRun runs `berth task run` (in dir, when given) and returns its
// output and whether it exited 0.
func (n *netScenario) taskRun(dir string, args ...string) (string, bool) {
	n.t.Helper()
	stdout, stderr, err := n.owner.exec(dir, testserver.Binary(n.t), append([]string{"task", "run", "-r", netReg}, args...))
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		n.t.Fatalf("berth task run: %v\n%s%s", err, stdout, stderr)
	}
	return stdout + stderr, err == nil
}

func (n *netScenario) wantTaskRun(ok bool, when string, dir string, args ...string) string {
	n.t.Helper()
	out, succeeded := n.taskRun(dir, args...)
	if succeeded != ok || ok && !strings.Contains(out, "was successful after") || !ok && !strings.Contains(out, "failed after") {
		n.t.Fatalf("%s: berth task run %s: succeeded %v, want %v:\n%s", when, strings.Join(args, " "), succeeded, ok, out)
	}
	return out
}

// firewall turns the registry's firewall on: only the owner's machine
// (127.0.0.1) gets in.
func (n *netScenario) firewall() {
	o := n.owner
	o.berth("registry", "update", "-n", netReg, "--default-action", "Deny")
	o.berth("network-rule", "add", "-n", netReg, "--ip-address", "127.0.0.1/32")
}

// grant gives principal role on the registry and returns the assignment id.
func (n *netScenario) grant(principal, role string) string {
	n.t.Helper()
	regID := strings.TrimSpace(n.owner.berth("registry", "show", "-n", netReg, "--query", "id", "-o", "tsv"))
	var ra struct {
		ID string `json:"id"`
	}
	n.owner.berthJSON(&ra, "role", "assignment", "create", "--assignee", principal, "--scope", regID, "--role", role)
	return ra.ID
}

func TestS23TaskBypass(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner
	base := n.pushBase()
	n.firewall()

	t.Log("== S2.3: the bypass policy for tasks")
	if got := strings.TrimSpace(o.berth("resource", "show", "--resource-type", "registries", "--name", netReg,
		"--query", "properties.networkRuleBypassAllowedForTasks")); got != "false" {
		t.Fatalf("networkRuleBypassAllowedForTasks = %s, want false", got)
	}
	o.berth("resource", "update", "--resource-type", "registries", "--name", netReg,
		"--set", "properties.networkRuleBypassAllowedForTasks=true")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nRUN echo hello from a task > /hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctxRef := n.loginServer + "/hello-world.dockerfile:1.0"
	o.toolIn(dir, "oras", "push", "--plain-http", ctxRef, "Dockerfile") // from 127.0.0.1
	o.berth("task", "create", "-t", "helloworld", "-r", netReg, "-n", "helloworldtask",
		"-c", "oci://"+ctxRef, "-f", "Dockerfile", "--assign-identity", "[system]")
	principal := strings.TrimSpace(o.berth("task", "show", "-n", "helloworldtask", "-r", netReg, "--query", "identity.principalId", "-o", "tsv"))
	if principal == "" {
		t.Fatal("the task has no system-assigned identity")
	}
	assignment := n.grant(principal, "AcrPush")
	o.berth("task", "credential", "add", "-n", "helloworldtask", "-r", netReg, "--login-server", n.loginServer, "--use-identity", "[system]")
	out := n.wantTaskRun(true, "firewall on, bypass true", "", "-n", "helloworldtask")
	for _, want := range []string{"Logging in to registry: " + n.loginServer, "The following dependencies were found:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the run's log has no %q:\n%s", want, out)
		}
	}
	o.tool("crane", "--insecure", "manifest", n.loginServer+"/helloworld:latest")

	t.Log("== S2.3: without the bypass, the firewall's 403")
	o.berth("resource", "update", "--resource-type", "registries", "--name", netReg,
		"--set", "properties.networkRuleBypassAllowedForTasks=false")
	out = n.wantTaskRun(false, "bypass false", "", "-n", "helloworldtask")
	if want := "client with IP '" + agentIP + "' is not allowed access"; !strings.Contains(out, want) {
		t.Errorf("the failed run does not say %q:\n%s", want, out)
	}

	t.Log("== S2.3: without the role assignment, an authorization error")
	o.berth("resource", "update", "--resource-type", "registries", "--name", netReg,
		"--set", "properties.networkRuleBypassAllowedForTasks=true")
	o.berth("role", "assignment", "delete", "--ids", assignment)
	out = n.wantTaskRun(false, "no role assignment", "", "-n", "helloworldtask")
	if strings.Contains(out, "is not allowed access") || !refusedRE.MatchString(out) {
		t.Errorf("the run without rights did not fail on authorization:\n%s", out)
	}

	t.Log("== S2.3: a user-assigned identity with AcrPush does not bypass")
	var id struct {
		Properties struct {
			PrincipalID string `json:"principalId"`
			ClientID    string `json:"clientId"`
		} `json:"properties"`
	}
	o.berthJSON(&id, "identity", "create", "-n", "pushidentity")
	n.grant(id.Properties.PrincipalID, "AcrPush")
	o.berth("task", "identity", "assign", "-n", "helloworldtask", "-r", netReg, "--identities", id.Properties.ClientID)
	o.berth("task", "credential", "update", "-n", "helloworldtask", "-r", netReg, "--login-server", n.loginServer,
		"--use-identity", id.Properties.ClientID)
	out = n.wantTaskRun(false, "user-assigned identity", "", "-n", "helloworldtask")
	if want := "client with IP '" + agentIP + "' is not allowed access"; !strings.Contains(out, want) {
		t.Errorf("the user-assigned identity's run does not say %q:\n%s", want, out)
	}
}

func TestS4PlaceholderTask(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner
	base := n.pushBase()
	n.firewall()
	o.berth("resource", "update", "--resource-type", "registries", "--name", netReg,
		"--set", "properties.networkRuleBypassAllowedForTasks=true")

	t.Log("== S4: a placeholder task and local source")
	yaml := filepath.Join(o.home, "acb.yaml")
	if err := os.WriteFile(yaml, []byte("version: v1.1.0\nsteps:\n"+
		"  - build: -t $Registry/{{.Values.image}} -f {{.Values.dockerfile}} .\n"+
		"  - push:\n    - $Registry/{{.Values.image}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.berth("task", "create", "-r", netReg, "-n", "mybuildtask", "-f", yaml, "-c", "/dev/null",
		"--assign-identity", "[system]", "--auth-mode", "None", "--base-image-trigger-enabled", "false")
	principal := strings.TrimSpace(o.berth("task", "show", "-n", "mybuildtask", "-r", netReg, "--query", "identity.principalId", "-o", "tsv"))
	n.grant(principal, "AcrPush")
	o.berth("task", "credential", "add", "-n", "mybuildtask", "-r", netReg, "--login-server", n.loginServer, "--use-identity", "[system]")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "Dockerfile"), []byte("FROM "+base+"\nCOPY hello.txt /hello.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello from local source\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := n.wantTaskRun(true, "S4", src, "-n", "mybuildtask", "--set", "image=myrepo:mytag", "--set", "dockerfile=Dockerfile", "-c", ".")
	if !strings.Contains(out, n.loginServer+"/myrepo:mytag") {
		t.Errorf("the run's log does not name the image it pushed:\n%s", out)
	}
	o.tool("crane", "--insecure", "manifest", n.loginServer+"/myrepo:mytag")
	if got := o.tool("crane", "--insecure", "export", n.loginServer+"/myrepo:mytag", "-"); !strings.Contains(got, "hello from local source") {
		t.Errorf("the pushed image lacks the local source's file")
	}
}

// ageContent moves every tag and manifest of the server two days into the
// past, as if they had been pushed then: the server is stopped while its
// store is changed, and started again.
func (n *netScenario) ageContent() {
	n.t.Helper()
	n.srv.Stop()
	db, err := sql.Open("sqlite", filepath.Join(n.srv.DataDir, "meta.db"))
	if err != nil {
		n.t.Fatal(err)
	}
	defer db.Close()
	const twoDays = int64(48 * time.Hour)
	for _, table := range []string{"tags", "manifests"} {
		if _, err := db.Exec(`UPDATE `+table+` SET created_at = created_at - ?, updated_at = updated_at - ?`, twoDays, twoDays); err != nil {
			n.t.Fatal(err)
		}
	}
	db.Close()
	n.srv.Restart(n.t)
}

// seedPurge pushes into hello-world: v1 (signed by an untagged signature),
// v2, an untagged image, an index tagged multi whose images are untagged,
// an index locked under the tag keep, and an untagged image whose locked
// signature needs it; and other:v1, which no filter names. It returns the
// digests that must stay.
func (n *netScenario) seedPurge() []string {
	n.t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Create(n.t.TempDir())
	if err != nil {
		n.t.Fatal(err)
	}
	c := regclient.New(regclient.Options{PlainHTTP: true, Username: nullUser, Password: n.refresh})
	put := func(mediaType string, v any) oci.Descriptor {
		b, _ := json.Marshal(v)
		d, err := l.PutBytes(mediaType, b)
		if err != nil {
			n.t.Fatal(err)
		}
		return d
	}
	image := func(text string, subject *oci.Descriptor) oci.Descriptor {
		layer, err := l.PutBytes("application/vnd.oci.image.layer.v1.tar", []byte(text))
		if err != nil {
			n.t.Fatal(err)
		}
		cfg, err := l.PutBytes("application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"amd64","os":"linux","seed":"`+text+`"}`))
		if err != nil {
			n.t.Fatal(err)
		}
		m := map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageManifest, "config": cfg, "layers": []oci.Descriptor{layer}}
		if subject != nil {
			m["subject"] = subject
		}
		return put(oci.MediaTypeImageManifest, m)
	}
	push := func(d oci.Descriptor, repo, tag string) string {
		ref := regclient.Reference{Host: n.loginServer, Repository: repo, Tag: tag}
		if tag == "" {
			ref.Digest = d.Digest
		}
		if _, err := c.Push(ctx, l, d, ref); err != nil {
			n.t.Fatalf("push %s: %v", ref, err)
		}
		return string(d.Digest)
	}
	index := func(ms ...oci.Descriptor) oci.Descriptor {
		return put(oci.MediaTypeImageIndex, map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageIndex, "manifests": ms})
	}
	const repo = "hello-world"
	v1 := image("v1", nil)
	push(v1, repo, "v1")
	push(image("signature of v1", &v1), repo, "")
	push(image("v2", nil), repo, "v2")
	push(image("untagged", nil), repo, "")
	push(index(image("amd64", nil), image("arm64", nil)), repo, "multi")
	kamd, karm := image("kept amd64", nil), image("kept arm64", nil)
	kept := push(index(kamd, karm), repo, "keep")
	needed := image("needed by a locked signature", nil)
	push(needed, repo, "")
	lockedSig := push(image("locked signature", &needed), repo, "")
	push(image("other", nil), "other", "v1")
	o := n.owner
	o.berth("repository", "update", "-r", netReg, "--image", repo+":keep", "--delete-enabled", "false")
	o.berth("repository", "update", "-r", netReg, "--image", repo+"@"+lockedSig, "--delete-enabled", "false")
	return []string{kept, string(kamd.Digest), string(karm.Digest), string(needed.Digest), lockedSig}
}

// purgeLines are the references a purge log names after prefix.
func purgeLines(out, prefix string) []string {
	var refs []string
	for _, line := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(line, prefix); ok {
			refs = append(refs, strings.TrimSpace(rest))
		}
	}
	sort.Strings(refs)
	return refs
}

func TestS3PurgeTask(t *testing.T) {
	// The server's collector looks every 200 ms and spares blobs for 1 s,
	// so that the storage a purge frees is seen reclaimed.
	cfg := filepath.Join(t.TempDir(), "berth.yaml")
	if err := os.WriteFile(cfg, []byte("gcGracePeriod: 1s\ngcInterval: 200ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := newNetScenario(t, "--config", cfg)
	o := n.owner
	n.firewall()
	o.berth("resource", "update", "--resource-type", "registries", "--name", netReg,
		"--set", "properties.networkRuleBypassAllowedForTasks=true")
	stay := n.seedPurge()
	n.ageContent()

	t.Log("== S3: the purge task, dry")
	cmd := "berth purge --filter 'hello-world:.*' --untagged --ago 1d --dry-run"
	o.berth("task", "create", "-r", netReg, "-n", "mypurgetask", "--cmd", cmd, "-c", "/dev/null",
		"--assign-identity", "[system]", "--auth-mode", "None", "--base-image-trigger-enabled", "false",
		"--schedule", "0 1 * * Sun")
	principal := strings.TrimSpace(o.berth("task", "show", "-n", "mypurgetask", "-r", netReg, "--query", "identity.principalId", "-o", "tsv"))
	n.grant(principal, "AcrDelete")
	n.grant(principal, "AcrPull")
	o.berth("task", "credential", "add", "-n", "mypurgetask", "-r", netReg, "--login-server", n.loginServer, "--use-identity", "[system]")
	before := o.tool("crane", "--insecure", "ls", n.loginServer+"/hello-world")
	out := n.wantTaskRun(true, "S3 dry run", "", "-n", "mypurgetask")
	announced := purgeLines(out, "Would delete: ")
	if len(announced) == 0 {
		t.Fatalf("the dry run announced nothing:\n%s", out)
	}
	if after := o.tool("crane", "--insecure", "ls", n.loginServer+"/hello-world"); after != before {
		t.Fatalf("the dry run deleted tags: before\n%s\nafter\n%s", before, after)
	}

	t.Log("== S3: the purge task, for real")
	sizeBefore := n.usage("Size")
	o.berth("task", "update", "-r", netReg, "-n", "mypurgetask", "--cmd", strings.TrimSuffix(cmd, " --dry-run"))
	out = n.wantTaskRun(true, "S3 real run", "", "-n", "mypurgetask")
	if deleted := purgeLines(out, "Deleted: "); strings.Join(deleted, "\n") != strings.Join(announced, "\n") {
		t.Errorf("the real run deleted\n%s\nthe dry run announced\n%s", strings.Join(deleted, "\n"), strings.Join(announced, "\n"))
	}
	if !strings.Contains(out, "Number of deleted tags: 3") {
		t.Errorf("the real run did not delete the three unlocked tags of hello-world:\n%s", out)
	}
	if tags := strings.Fields(o.tool("crane", "--insecure", "ls", n.loginServer+"/hello-world")); strings.Join(tags, " ") != "keep" {
		t.Errorf("hello-world keeps the tags %v, want only the locked keep", tags)
	}
	for _, d := range stay {
		o.tool("crane", "--insecure", "manifest", n.loginServer+"/hello-world@"+d)
	}
	o.tool("crane", "--insecure", "manifest", n.loginServer+"/other:v1")

	t.Log("== S3: storage is reclaimed")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		size := n.usage("Size")
		if size < sizeBefore {
			t.Logf("stored bytes: %d before the purge, %d after collection", sizeBefore, size)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry still stores %d bytes 30 s after the purge (%d before)", size, sizeBefore)
		}
	}
	for _, d := range stay {
		o.tool("crane", "--insecure", "manifest", n.loginServer+"/hello-world@"+d)
	}
}

// usage is one figure of `berth registry show-usage`.
func (n *netScenario) usage(name string) int64 {
	n.t.Helper()
	var u struct {
		Value []struct {
			Name         string `json:"name"`
			CurrentValue int64  `json:"currentValue"`
		} `json:"value"`
	}
	n.owner.berthJSON(&u, "registry", "show-usage", "-n", netReg)
	for _, f := range u.Value {
		if f.Name == name {
			return f.CurrentValue
		}
	}
	n.t.Fatalf("show-usage has no %s", name)
	return 0
}
