package mgmt_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// contract lists every call of docs/management-api.md.
var contract = map[string][]string{
	"/api/registries":                                           {"get"},
	"/api/registries/{name}":                                    {"put", "get", "patch", "delete"},
	"/api/registries/{name}/listCredentials":                    {"post"},
	"/api/registries/{name}/regenerateCredential":               {"post"},
	"/api/registries/{name}/networkDenials":                     {"get"},
	"/api/registries/{name}/networkChanges":                     {"get"},
	"/api/registries/{name}/importImage":                        {"post"},
	"/api/registries/{name}/usage":                              {"get"},
	"/api/users":                                                {"get"},
	"/api/users/{name}":                                         {"put", "get", "delete"},
	"/api/users/{name}/resetPassword":                           {"post"},
	"/api/servicePrincipals":                                    {"post", "get"},
	"/api/servicePrincipals/{appId}":                            {"get", "patch", "delete"},
	"/api/servicePrincipals/{appId}/resetCredential":            {"post"},
	"/api/identities":                                           {"get"},
	"/api/identities/{name}":                                    {"put", "get", "patch", "delete"},
	"/api/roleAssignments":                                      {"post", "get"},
	"/api/roleAssignments/{id}":                                 {"delete"},
	"/api/registries/{name}/scopeMaps":                          {"get"},
	"/api/registries/{name}/scopeMaps/{map}":                    {"put", "get", "patch", "delete"},
	"/api/registries/{name}/tokens":                             {"get"},
	"/api/registries/{name}/tokens/{token}":                     {"put", "get", "patch", "delete"},
	"/api/registries/{name}/tokens/{token}/generateCredentials": {"post"},
	"/api/openapi.json":                                         {"get"},

	"/api/registries/{name}/privateEndpointConnections":              {"get"},
	"/api/registries/{name}/privateEndpointConnections/{pe}":         {"put", "get", "delete"},
	"/api/registries/{name}/privateEndpointConnections/{pe}/approve": {"post"},
	"/api/registries/{name}/privateEndpointConnections/{pe}/reject":  {"post"},

	"/api/registries/{name}/agentPools":        {"get"},
	"/api/registries/{name}/agentPools/{pool}": {"put", "get", "patch", "delete"},

	"/api/registries/{name}/tasks":            {"get"},
	"/api/registries/{name}/tasks/{task}":     {"put", "get", "patch", "delete"},
	"/api/registries/{name}/tasks/{task}/run": {"post"},

	"/api/registries/{name}/buildContexts":       {"post"},
	"/api/registries/{name}/runs":                {"post", "get"},
	"/api/registries/{name}/runs/{runId}":        {"get"},
	"/api/registries/{name}/runs/{runId}/log":    {"get"},
	"/api/registries/{name}/runs/{runId}/cancel": {"post"},
}

func TestOpenAPI(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.url + "/api/openapi.json") // no token
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Info    struct{ Title, Version string }       `json:"info"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("openapi %q info %+v", doc.OpenAPI, doc.Info)
	}
	for path, methods := range contract {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("the document lacks %s %s", strings.ToUpper(m), path)
			}
		}
	}
	// Every $ref points at something the document defines.
	var whole struct {
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	json.Unmarshal(b, &whole)
	for _, ref := range regexp.MustCompile(`"\$ref":\s*"#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := whole.Components[ref[1]][ref[2]]; !ok {
			t.Errorf("dangling $ref %s/%s", ref[1], ref[2])
		}
	}
	// Every operation the document names is served: without a token it is
	// refused with 401, never unknown.
	fill := strings.NewReplacer("{name}", "default", "{appId}", "x", "{id}", "x", "{map}", "x", "{token}", "x", "{pe}", "x", "{runId}", "ca1", "{task}", "mytask")
	for path, ops := range doc.Paths {
		if _, ok := contract[path]; !ok {
			t.Errorf("the document has %s, which the contract does not", path)
		}
		for m := range ops {
			if m == "parameters" || path == "/api/openapi.json" {
				continue
			}
			req, _ := http.NewRequest(strings.ToUpper(m), e.url+fill.Replace(path), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("%s %s without a token: %d, want 401", strings.ToUpper(m), path, resp.StatusCode)
			}
		}
	}
}
