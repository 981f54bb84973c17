package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

// Every typed call sends the method, path and body of the management API
// contract (docs/management-api.md) and decodes its answer.
func TestResourceCalls(t *testing.T) {
	ctx := context.Background()
	tru := true
	desc := "d"
	expiry := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		call         func(c *client.Client) (any, error)
		method, path string
		body         string // "" for none
		reply        string
		want         any
	}{
		{"registry create", func(c *client.Client) (any, error) {
			return c.Registries().Create(ctx, "reg1x", client.RegistryCreate{Location: "local", LoginServer: "127.0.3.1:5000"})
		}, "PUT", "/api/registries/reg1x", `{"location":"local","properties":{"loginServer":"127.0.3.1:5000","adminUserEnabled":false}}`,
			`{"id":"/registries/reg1x","name":"reg1x","type":"registries","location":"local","properties":{"loginServer":"127.0.3.1:5000","adminUserEnabled":false}}`,
			client.Registry{ID: "/registries/reg1x", Name: "reg1x", Type: "registries", Location: "local", Properties: client.RegistryProperties{LoginServer: "127.0.3.1:5000"}}},
		{"registry update", func(c *client.Client) (any, error) {
			return c.Registries().Update(ctx, "reg1x", client.RegistryUpdate{AdminUserEnabled: &tru})
		}, "PATCH", "/api/registries/reg1x", `{"properties":{"adminUserEnabled":true}}`, `{"name":"reg1x","properties":{"adminUserEnabled":true}}`,
			client.Registry{Name: "reg1x", Properties: client.RegistryProperties{AdminUserEnabled: true}}},
		{"registry update, network", func(c *client.Client) (any, error) {
			return c.Registries().Update(ctx, "reg1x", client.RegistryUpdate{PublicNetworkAccess: "Disabled",
				NetworkRuleSet: &client.NetworkRuleSetUpdate{DefaultAction: "Deny"}, NetworkRuleBypassOptions: "None", NetworkRuleBypassAllowedForTasks: &tru})
		}, "PATCH", "/api/registries/reg1x",
			`{"properties":{"publicNetworkAccess":"Disabled","networkRuleSet":{"defaultAction":"Deny"},"networkRuleBypassOptions":"None","networkRuleBypassAllowedForTasks":true}}`,
			`{"name":"reg1x","properties":{"publicNetworkAccess":"Disabled","networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"10.0.0.0/24"}]},"networkRuleBypassOptions":"None","networkRuleBypassAllowedForTasks":true}}`,
			client.Registry{Name: "reg1x", Properties: client.RegistryProperties{PublicNetworkAccess: "Disabled",
				NetworkRuleSet:           &client.NetworkRuleSet{DefaultAction: "Deny", IPRules: []client.IPRule{{Action: "Allow", Value: "10.0.0.0/24"}}},
				NetworkRuleBypassOptions: "None", NetworkRuleBypassAllowedForTasks: true}}},
		{"registry update, ip rules emptied", func(c *client.Client) (any, error) {
			return c.Registries().Update(ctx, "reg1x", client.RegistryUpdate{NetworkRuleSet: &client.NetworkRuleSetUpdate{IPRules: []client.IPRule{}}})
		}, "PATCH", "/api/registries/reg1x", `{"properties":{"networkRuleSet":{"ipRules":[]}}}`, `{"name":"reg1x"}`, client.Registry{Name: "reg1x"}},
		{"service tags", func(c *client.Client) (any, error) { return c.ServiceTags(ctx, "local one") },
			"GET", "/api/serviceTags?location=local+one", "",
			`{"values":[{"id":"BerthTasks.local","name":"BerthTasks.local","properties":{"region":"local","addressPrefixes":["127.0.1.0/24"],"changeNumber":3}}]}`,
			[]client.ServiceTag{{ID: "BerthTasks.local", Name: "BerthTasks.local", Properties: client.ServiceTagProperties{Region: "local", AddressPrefixes: []string{"127.0.1.0/24"}, ChangeNumber: 3}}}},
		{"service tags, none", func(c *client.Client) (any, error) { return c.ServiceTags(ctx, "x") },
			"GET", "/api/serviceTags?location=x", "", `{}`, []client.ServiceTag{}},
		{"get by ID", func(c *client.Client) (any, error) { return c.GetByID(ctx, "/registries/r 1") },
			"GET", "/api/registries/r%201", "", `{"name":"r 1"}`, json.RawMessage(`{"name":"r 1"}`)},
		{"patch by ID", func(c *client.Client) (any, error) {
			return c.PatchByID(ctx, "/registries/r", map[string]any{"properties": map[string]any{"x": true}})
		}, "PATCH", "/api/registries/r", `{"properties":{"x":true}}`, `{"name":"r"}`, json.RawMessage(`{"name":"r"}`)},
		{"registry list", func(c *client.Client) (any, error) { return c.Registries().List(ctx) },
			"GET", "/api/registries", "", `{"value":[{"name":"a"}]}`, []client.Registry{{Name: "a"}}},
		{"registry list, empty", func(c *client.Client) (any, error) { return c.Registries().List(ctx) },
			"GET", "/api/registries", "", `{}`, []client.Registry{}},
		{"admin password", func(c *client.Client) (any, error) {
			return c.Registries().RegenerateCredential(ctx, "reg1x", "password2")
		},
			"POST", "/api/registries/reg1x/regenerateCredential", `{"name":"password2"}`,
			`{"username":"reg1x","passwords":[{"name":"password2","value":"v"}]}`,
			client.AdminCredentials{Username: "reg1x", Passwords: []client.Password{{Name: "password2", Value: "v"}}}},
		{"user reset", func(c *client.Client) (any, error) { return nil, c.Users().ResetPassword(ctx, "al ice", "pw") },
			"POST", "/api/users/al%20ice/resetPassword", `{"password":"pw"}`, "", nil},
		{"sp create", func(c *client.Client) (any, error) {
			return c.ServicePrincipals().Create(ctx, client.ServicePrincipalCreate{Name: "ci", Role: "AcrPush", Scopes: []string{"/registries/r"}})
		}, "POST", "/api/servicePrincipals", `{"name":"ci","role":"AcrPush","scopes":["/registries/r"]}`,
			`{"appId":"a","password":"p"}`, client.ServicePrincipalSecret{AppID: "a", Password: "p"}},
		{"sp reset", func(c *client.Client) (any, error) { return c.ServicePrincipals().ResetCredential(ctx, "a", 2) },
			"POST", "/api/servicePrincipals/a/resetCredential", `{"years":2}`, `{"appId":"a"}`, client.ServicePrincipalSecret{AppID: "a"}},
		{"identity create", func(c *client.Client) (any, error) { return c.Identities().Create(ctx, "b") },
			"PUT", "/api/identities/b", `{}`, `{"name":"b"}`, client.ManagedIdentity{Name: "b"}},
		{"sp update", func(c *client.Client) (any, error) {
			return c.ServicePrincipals().Update(ctx, "a", client.ServicePrincipalUpdate{TrustedService: &tru})
		}, "PATCH", "/api/servicePrincipals/a", `{"properties":{"trustedService":true}}`, `{"name":"ci","properties":{"appId":"a","trustedService":true}}`,
			client.ServicePrincipal{Name: "ci", Properties: client.ServicePrincipalProperties{AppID: "a", TrustedService: true}}},
		{"sp update, untrusted", func(c *client.Client) (any, error) {
			return c.ServicePrincipals().Update(ctx, "a", client.ServicePrincipalUpdate{TrustedService: new(bool)})
		}, "PATCH", "/api/servicePrincipals/a", `{"properties":{"trustedService":false}}`, `{"name":"ci","properties":{"trustedService":false}}`,
			client.ServicePrincipal{Name: "ci"}},
		{"identity update", func(c *client.Client) (any, error) {
			return c.Identities().Update(ctx, "b x", client.ManagedIdentityUpdate{TrustedService: &tru})
		}, "PATCH", "/api/identities/b%20x", `{"properties":{"trustedService":true}}`, `{"name":"b x","properties":{"trustedService":true}}`,
			client.ManagedIdentity{Name: "b x", Properties: client.ManagedIdentityProperties{TrustedService: true}}},
		{"role assignment list", func(c *client.Client) (any, error) {
			return c.RoleAssignments().List(ctx, client.RoleAssignmentFilter{Assignee: "alice", Scope: "/registries/r"})
		}, "GET", "/api/roleAssignments?assignee=alice&scope=%2Fregistries%2Fr", "", `{"value":[]}`, []client.RoleAssignment{}},
		{"role assignment delete by ID", func(c *client.Client) (any, error) {
			return nil, c.RoleAssignments().Delete(ctx, "/roleAssignments/x1")
		},
			"DELETE", "/api/roleAssignments/x1", "", "", nil},
		{"scope map update", func(c *client.Client) (any, error) {
			return c.ScopeMaps("r").Update(ctx, "m", client.ScopeMapUpdate{Description: &desc, Actions: []string{}})
		}, "PATCH", "/api/registries/r/scopeMaps/m", `{"properties":{"description":"d","actions":[]}}`, `{"name":"m"}`, client.ScopeMap{Name: "m"}},
		{"scope map update, actions untouched", func(c *client.Client) (any, error) {
			return c.ScopeMaps("r").Update(ctx, "m", client.ScopeMapUpdate{Description: &desc})
		}, "PATCH", "/api/registries/r/scopeMaps/m", `{"properties":{"description":"d"}}`, `{"name":"m"}`, client.ScopeMap{Name: "m"}},
		{"token create", func(c *client.Client) (any, error) { return c.Tokens("r").Create(ctx, "t", "m", "enabled") },
			"PUT", "/api/registries/r/tokens/t", `{"properties":{"scopeMapId":"m","status":"enabled"}}`,
			`{"name":"t","properties":{"scopeMapId":"m","status":"enabled","credentials":{"username":"t","passwords":[{"name":"password1","value":"v1"}]}}}`,
			client.Token{Name: "t", Properties: client.TokenProperties{ScopeMapID: "m", Status: "enabled",
				Credentials: &client.TokenCredentials{Username: "t", Passwords: []client.Password{{Name: "password1", Value: "v1"}}}}}},
		{"token password", func(c *client.Client) (any, error) {
			return c.Tokens("r").GenerateCredential(ctx, "t", client.TokenPasswordRequest{Name: "password2", Expiry: expiry})
		}, "POST", "/api/registries/r/tokens/t/generateCredentials", `{"name":"password2","expiry":"2027-01-31T00:00:00Z"}`,
			`{"username":"t","passwords":[{"name":"password2","value":"v","expiry":"2027-01-31T00:00:00Z"}]}`,
			client.TokenCredentials{Username: "t", Passwords: []client.Password{{Name: "password2", Value: "v", Expiry: expiry}}}},
		{"token update", func(c *client.Client) (any, error) {
			return c.Tokens("r").Update(ctx, "t", client.TokenUpdate{Status: "disabled"})
		}, "PATCH", "/api/registries/r/tokens/t", `{"properties":{"status":"disabled"}}`, `{"name":"t"}`, client.Token{Name: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				if r.Method != tt.method || r.URL.RequestURI() != tt.path {
					t.Errorf("request %s %s, want %s %s", r.Method, r.URL.RequestURI(), tt.method, tt.path)
				}
				b, _ := io.ReadAll(r.Body)
				if tt.body == "" && len(b) > 0 || tt.body != "" && !jsonEqual(string(b), tt.body) {
					t.Errorf("body %s, want %s", b, tt.body)
				}
				if tt.reply == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				io.WriteString(w, tt.reply)
			}))
			defer srv.Close()
			c, _ := client.New(srv.URL, client.WithTokenSource(client.StaticToken("tok")))
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !called {
				t.Fatal("no request was sent")
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestByIDRejectsBadIDs(t *testing.T) {
	c, _ := client.New("http://127.0.0.1:1")
	for _, id := range []string{"", "registries/r", "/registries", "/registries/", "//r"} {
		if _, err := c.GetByID(context.Background(), id); err == nil || !strings.Contains(err.Error(), "invalid resource ID") {
			t.Errorf("%q: %v", id, err)
		}
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// Exchange posts the identity token in a form to the login server, with
// the server URL's scheme, and sends no Authorization header.
func TestExchange(t *testing.T) {
	var got struct {
		host, auth, ct string
		form           map[string][]string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/oauth2/exchange" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		got.host, got.auth, got.ct, got.form = r.Host, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.PostForm
		if r.PostForm.Get("access_token") != "id-tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"invalid identity token"}]}`)
			return
		}
		io.WriteString(w, `{"refresh_token":"refresh"}`)
	}))
	defer srv.Close()
	// The management server and the login server are different names of
	// the test server.
	loginServer := strings.Replace(strings.TrimPrefix(srv.URL, "http://"), "127.0.0.1", "localhost", 1)
	c, _ := client.New(srv.URL+"/prefix", client.WithTokenSource(client.StaticToken("id-tok")))
	if h := c.Host(); h != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("Host() = %q", h)
	}
	tok, err := c.Exchange(context.Background(), loginServer)
	if err != nil || tok != "refresh" {
		t.Fatalf("Exchange: %q, %v", tok, err)
	}
	want := map[string][]string{"grant_type": {"access_token"}, "service": {loginServer}, "access_token": {"id-tok"}}
	if got.host != loginServer || got.auth != "" || got.ct != "application/x-www-form-urlencoded" || !reflect.DeepEqual(got.form, want) {
		t.Errorf("request to %s, Authorization %q, Content-Type %q, form %v", got.host, got.auth, got.ct, got.form)
	}

	c2, _ := client.New(srv.URL, client.WithTokenSource(client.StaticToken("stale")))
	if _, err := c2.Exchange(context.Background(), loginServer); err == nil || err.Error() != "invalid identity token" {
		t.Errorf("refused: %v", err)
	}
	for _, bad := range []string{"", "h/x", "h?x"} {
		if _, err := c.Exchange(context.Background(), bad); err == nil {
			t.Errorf("Exchange(%q) gave no error", bad)
		}
	}
	c3, _ := client.New(srv.URL)
	if _, err := c3.Exchange(context.Background(), loginServer); err == nil {
		t.Error("Exchange without a token source gave no error")
	}
}
