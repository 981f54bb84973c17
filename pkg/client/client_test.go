package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        client.Error
	}{
		{"management", 404, "application/json", `{"error":{"code":"ResourceNotFound","message":"registry 'x' was not found"}}`,
			client.Error{Status: 404, Code: "ResourceNotFound", Message: "registry 'x' was not found"}},
		{"OCI", 403, "application/json", `{"errors":[{"code":"DENIED","message":"client with IP '10.0.0.1' is not allowed access."}]}`,
			client.Error{Status: 403, Code: "DENIED", Message: "client with IP '10.0.0.1' is not allowed access."}},
		{"OCI, several errors", 400, "application/json", `{"errors":[{"code":"A","message":"first"},{"code":"B","message":"second"}]}`,
			client.Error{Status: 400, Code: "A", Message: "first; second"}},
		{"OCI without message", 401, "application/json", `{"errors":[{"code":"UNAUTHORIZED"}]}`,
			client.Error{Status: 401, Code: "UNAUTHORIZED", Message: "UNAUTHORIZED"}},
		{"OAuth 2", 400, "application/json", `{"error":"invalid_grant","error_description":"wrong user name or password"}`,
			client.Error{Status: 400, Code: "invalid_grant", Message: "wrong user name or password"}},
		{"plain text", 502, "text/plain", "upstream is down\nsecond line",
			client.Error{Status: 502, Message: "the server answered 502 Bad Gateway: upstream is down"}},
		{"HTML", 500, "text/html", "<html><body>oops</body></html>",
			client.Error{Status: 500, Message: "the server answered 500 Internal Server Error"}},
		{"empty", 401, "", "",
			client.Error{Status: 401, Message: "the server answered 401 Unauthorized"}},
		{"JSON of another shape", 409, "application/json", `{"detail":"x"}`,
			client.Error{Status: 409, Message: `the server answered 409 Conflict: {"detail":"x"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c, err := client.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			var out map[string]any
			err = c.Do(context.Background(), "GET", "/api/registries/x", nil, &out)
			e, ok := client.AsError(err)
			if !ok {
				t.Fatalf("error %T %v, want *client.Error", err, err)
			}
			if *e != tt.want {
				t.Errorf("got %+v, want %+v", *e, tt.want)
			}
			if err.Error() != tt.want.Message {
				t.Errorf("Error() = %q, want the message alone", err.Error())
			}
			if out != nil {
				t.Errorf("out was filled on error: %v", out)
			}
		})
	}
}

func TestDoSendsAndDecodesJSON(t *testing.T) {
	type thing struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PUT" || r.URL.Path != "/base/api/things/a" || r.URL.RawQuery != "x=1" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer tok" {
			t.Errorf("Authorization %q", got)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var in thing
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in != (thing{"a", 1}) {
			t.Errorf("body %+v, %v", in, err)
		}
		json.NewEncoder(w).Encode(thing{"a", 2})
	}))
	defer srv.Close()
	c, err := client.New(srv.URL+"/base/", client.WithTokenSource(client.StaticToken("tok")))
	if err != nil {
		t.Fatal(err)
	}
	var out thing
	if err := c.Do(context.Background(), "PUT", "/api/things/a?x=1", thing{"a", 1}, &out); err != nil {
		t.Fatal(err)
	}
	if out != (thing{"a", 2}) {
		t.Errorf("decoded %+v", out)
	}
}

func TestDoStopsOnTokenError(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithTokenSource(client.TokenSourceFunc(func(context.Context) (string, error) {
		return "", errors.New("not logged in")
	})))
	if err := c.Do(context.Background(), "GET", "/api/x", nil, nil); err == nil || err.Error() != "not logged in" {
		t.Fatalf("error %v", err)
	}
	if called {
		t.Error("the request was sent without its token")
	}
}

func TestDoBadResponseBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "not json") }))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	var out map[string]any
	err := c.Do(context.Background(), "GET", "/api/x", nil, &out)
	if err == nil || !strings.Contains(err.Error(), "decoding the answer to GET /api/x") {
		t.Fatalf("error %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, _ := client.New(base)
	err := c.Do(context.Background(), "GET", "/api/x", nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach "+base+": ") || strings.Count(err.Error(), base) != 1 {
		t.Fatalf("error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Do(ctx, "GET", "/api/x", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:5000", "ftp://x", "http://", "http://x?q=1"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) gave no error", u)
		}
	}
}

// identityServer implements the /identity/oauth2/token contract for one
// user and one service principal.
func identityServer(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/identity/oauth2/token" {
			http.NotFound(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		if r.Header.Get("Authorization") != "" {
			t.Error("login sent an Authorization header")
		}
		r.ParseForm()
		ok := false
		switch r.PostForm.Get("grant_type") {
		case "password":
			ok = r.PostForm.Get("username") == "alice" && r.PostForm.Get("password") == "pw"
		case "client_credentials":
			ok = r.PostForm.Get("client_id") == "app" && r.PostForm.Get("client_secret") == "sec"
		}
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"InvalidCredentials","message":"wrong user name or password"}}`)
			return
		}
		io.WriteString(w, `{"access_token":"id-`+r.PostForm.Get("grant_type")+`","token_type":"Bearer","expires_in":3600}`)
	}))
}

func TestLogin(t *testing.T) {
	srv := identityServer(t)
	defer srv.Close()
	// A token source must not be used (nor fail) for a login.
	c, _ := client.New(srv.URL, client.WithTokenSource(client.TokenSourceFunc(func(context.Context) (string, error) {
		return "", errors.New("token source used")
	})))
	ctx := context.Background()

	before := time.Now()
	tok, err := c.Login(ctx, client.LoginRequest{Username: "alice", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "id-password" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Errorf("token %+v", tok)
	}
	if d := tok.ExpiresAt.Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("ExpiresAt %v is not an hour from now", tok.ExpiresAt)
	}

	tok, err = c.Login(ctx, client.LoginRequest{ClientID: "app", ClientSecret: "sec"})
	if err != nil || tok.AccessToken != "id-client_credentials" {
		t.Fatalf("service principal login: %+v, %v", tok, err)
	}

	_, err = c.Login(ctx, client.LoginRequest{Username: "alice", Password: "nope"})
	if e, ok := client.AsError(err); !ok || e.Status != 401 || e.Code != "InvalidCredentials" || err.Error() != "wrong user name or password" {
		t.Fatalf("wrong password: %#v", err)
	}

	for _, r := range []client.LoginRequest{{}, {Username: "a", ClientID: "b"}} {
		if _, err := c.Login(ctx, r); err == nil {
			t.Errorf("Login(%+v) gave no error", r)
		}
	}
}

func TestLoginWithoutToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"token_type":"Bearer"}`)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	if _, err := c.Login(context.Background(), client.LoginRequest{Username: "a", Password: "b"}); err == nil ||
		!strings.Contains(err.Error(), "no access_token") {
		t.Fatalf("error %v", err)
	}
}
