package agent_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/agent"
)

// TestRunStepNetwork: a RUN step has a network namespace of its own with
// only a loopback interface, so the server the agent talks to (and every
// registry) is out of its reach, even at the address the agent uses.
func TestRunStepNetwork(t *testing.T) {
	e := newBuildEnv(t)
	url := "http://" + e.host + "/healthz"
	// The server answers there, from this host.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("GET %s from the host: %d %q", url, resp.StatusCode, body)
	}

	// Debian's busybox 1.35 wget crashes on -T: timeout bounds it instead.
	// Each probe records its exit status, so the build succeeds and the
	// image shows what the step saw.
	e.build(agent.Job{RunID: "nw1", Images: []string{"isolation/net:v1"}, Push: true,
		Context: bytes.NewReader(packFiles(t, map[string]string{"Dockerfile": "FROM " + e.base + "\n" +
			"RUN mkdir /probe && cd /probe && " +
			"{ timeout 10 wget -q -O- " + url + " > wget.out 2>&1; echo $? > wget.status; } && " +
			"{ timeout 10 wget -q -O- http://" + e.host + "/v2/ > v2.out 2>&1; echo $? > v2.status; } && " +
			"{ ip -o link > links 2>&1; ip route > routes 2>&1; cat /proc/net/route > proc.route; true; }\n",
		}))})
	files := e.pulled("isolation/net:v1")
	for _, probe := range []string{"wget", "v2"} {
		status := strings.TrimSpace(files["probe/"+probe+".status"])
		out := files["probe/"+probe+".out"]
		if status == "" || status == "0" || strings.Contains(out, "ok") || strings.Contains(out, "UNAUTHORIZED") {
			t.Errorf("a RUN step reached the server at %s (%s): exit %q, output %q", e.host, probe, status, out)
		}
		// Refused by the step's own loopback, not a crash of wget.
		if status == "139" || !strings.Contains(out, "refused") {
			t.Errorf("the %s probe failed for another reason than the network: exit %q, output %q", probe, status, out)
		}
	}
	var links []string
	for _, l := range strings.Split(strings.TrimSpace(files["probe/links"]), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			links = append(links, strings.TrimSuffix(f[1], ":"))
		}
	}
	if len(links) != 1 || links[0] != "lo" {
		t.Errorf("a RUN step sees the interfaces %v, want only lo:\n%s", links, files["probe/links"])
	}
	// The kernel's routing table: a header, and no route at all.
	if rows := strings.Split(strings.TrimSpace(files["probe/proc.route"]), "\n"); len(rows) != 1 {
		t.Errorf("a RUN step has routes:\n%s\n%s", files["probe/proc.route"], files["probe/routes"])
	}
}
