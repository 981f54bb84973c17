package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testserver"
)

// An instance owner marks a service principal and a user-assigned identity
// as trusted services with the berth CLI against a real server; a
// Contributor may not; and the trusted service principal, unlike an
// ordinary one, logs in to a registry closed to public networks.
func TestTrustedServiceMark(t *testing.T) {
	const reg = "trustedreg"
	srv := testserver.Start(t, testserver.Opts{ExtraListen: []string{"127.0.3.1:0"}})
	loginServer := srv.Listen[1]
	var secrets []string
	redact := func(s string) string {
		s = strings.ReplaceAll(s, srv.Password, "***")
		for _, x := range secrets {
			s = strings.ReplaceAll(s, x, "***")
		}
		return s
	}
	o := newMachine(t, "owner", redact)
	o.berth("login", "--server", srv.URL, "-u", testserver.AdminUser, "-p", srv.Password)
	o.berth("registry", "create", "-n", reg, "--location", "local", "--login-server", loginServer)

	newSP := func(name string) (appID, secret string) {
		var sp struct{ AppID, Password string }
		o.berthJSON(&sp, "sp", "create-for-rbac", "-n", name, "--role", "AcrPull", "--scopes", "/registries/"+reg)
		secrets = append(secrets, sp.Password)
		return sp.AppID, sp.Password
	}
	importer, importerSecret := newSP("importer")
	ci, ciSecret := newSP("ci")
	tsv := func(m *machine, args ...string) string {
		m.t.Helper()
		return strings.TrimSpace(m.berth(append(args, "-o", "tsv")...))
	}

	if got := tsv(o, "sp", "update", "--id", importer, "--trusted-service", "true", "--query", "properties.trustedService"); got != "true" {
		t.Fatalf("sp update answered trustedService %q", got)
	}
	if got := tsv(o, "sp", "list", "--query", "[?properties.trustedService].name"); got != "importer" {
		t.Fatalf("trusted service principals listed: %q, want importer", got)
	}
	if got := tsv(o, "sp", "show", "--id", ci, "--query", "properties.trustedService"); got != "false" {
		t.Fatalf("ci shows trustedService %q", got)
	}

	o.berth("identity", "create", "-n", "builder")
	if got := tsv(o, "identity", "update", "-n", "builder", "--trusted-service", "true", "--query", "properties.trustedService"); got != "true" {
		t.Fatalf("identity update answered trustedService %q", got)
	}
	if got := tsv(o, "identity", "list", "--query", "[?properties.trustedService].name"); got != "builder" {
		t.Fatalf("trusted identities listed: %q, want builder", got)
	}
	o.berth("identity", "update", "-n", "builder", "--trusted-service", "false")
	if got := tsv(o, "identity", "show", "-n", "builder", "--query", "properties.trustedService"); got != "false" {
		t.Fatalf("builder shows trustedService %q after it was taken away", got)
	}

	t.Log("== a Contributor at / may not change the mark")
	o.berth("user", "create", "-n", "carol", "-p", "carol-password")
	o.berth("role", "assignment", "create", "--assignee", "carol", "--role", "Contributor", "--scope", "/")
	carol := newMachine(t, "carol", redact)
	carol.berth("login", "--server", srv.URL, "-u", "carol", "-p", "carol-password")
	if out := carol.berthFails("sp", "update", "--id", importer, "--trusted-service", "false"); !strings.Contains(out, "needs the role Owner at scope /") {
		t.Fatalf("the contributor's sp update: %s", out)
	}
	if out := carol.berthFails("identity", "update", "-n", "builder", "--trusted-service", "true"); !strings.Contains(out, "needs the role Owner at scope /") {
		t.Fatalf("the contributor's identity update: %s", out)
	}
	if got := tsv(carol, "sp", "show", "--id", importer, "--query", "properties.trustedService"); got != "true" {
		t.Fatalf("importer shows trustedService %q after the contributor's attempt", got)
	}

	t.Log("== only the trusted service principal reaches the closed registry")
	o.berth("registry", "update", "-n", reg, "--public-network-enabled", "false", "--allow-trusted-services", "true")
	login := func(name, appID, secret string) *machine {
		m := newMachine(t, name, redact)
		m.berth("login", "--server", srv.URL, "--service-principal", "-u", appID, "-p", secret)
		return m
	}
	var exposed struct{ AccessToken string }
	login("importer", importer, importerSecret).berthJSON(&exposed, "registry", "login", "-n", reg, "--expose-token")
	secrets = append(secrets, exposed.AccessToken)
	req, _ := http.NewRequest("GET", "http://"+loginServer+"/oauth2/token?service="+loginServer+"&scope=repository:app:pull", nil)
	req.SetBasicAuth(nullUser, exposed.AccessToken)
	if status, body := do(t, http.DefaultClient, req); status != 200 {
		t.Fatalf("the trusted service principal's access token: %d %s", status, redact(body))
	}
	if out := login("ci", ci, ciSecret).berthFails("registry", "login", "-n", reg, "--expose-token"); !strings.Contains(out, "is not allowed access") {
		t.Fatalf("the ordinary service principal's registry login: %s", out)
	}
}
