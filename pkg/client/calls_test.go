package client_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/berth-project/berth/pkg/client"
)

// callCase is one call of a group of calls (T, such as client.AgentPools):
// the method, path and exact body it must send, the reply it gets (""
// answers 204) and what the call must return.
type callCase[T any] struct {
	name         string
	call         func(p T) (any, error)
	method, path string
	body, reply  string
	want         any
}

// runCallCases runs each case against a server of its own, on the calls
// that group gives of a client of that server.
func runCallCases[T any](t *testing.T, group func(*client.Client) T, tests []callCase[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.Method != tt.method || r.URL.EscapedPath() != tt.path || string(b) != tt.body {
					t.Errorf("got %s %s %s, want %s %s %s", r.Method, r.URL.EscapedPath(), b, tt.method, tt.path, tt.body)
				}
				if tt.reply == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				io.WriteString(w, tt.reply)
			}))
			defer srv.Close()
			c, err := client.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.call(group(c))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}
