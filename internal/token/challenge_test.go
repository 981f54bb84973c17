package token

import "testing"

func TestChallenge(t *testing.T) {
	for _, tc := range []struct {
		realm, service string
		scopes         []string
		want           string
	}{
		{"https://r.test/oauth2/token", "r.test", nil,
			`Bearer realm="https://r.test/oauth2/token",service="r.test"`},
		{"http://127.0.0.1:5000/oauth2/token", "127.0.0.1:5000", []string{"repository:app/web:pull"},
			`Bearer realm="http://127.0.0.1:5000/oauth2/token",service="127.0.0.1:5000",scope="repository:app/web:pull"`},
		{"https://r.test/oauth2/token", "r.test", []string{"repository:a:pull,push", "", "repository:b:pull"},
			`Bearer realm="https://r.test/oauth2/token",service="r.test",scope="repository:a:pull,push repository:b:pull"`},
		{"https://r.test/oauth2/token", "r.test", []string{""},
			`Bearer realm="https://r.test/oauth2/token",service="r.test"`},
		{`https://r.test/"x"\`, "r\r\n.test\x7f", []string{"repository:a\"b:pull"},
			`Bearer realm="https://r.test/\"x\"\\",service="r.test",scope="repository:a\"b:pull"`},
	} {
		if got := Challenge(tc.realm, tc.service, tc.scopes...); got != tc.want {
			t.Errorf("Challenge(%q, %q, %q)\n = %s\nwant %s", tc.realm, tc.service, tc.scopes, got, tc.want)
		}
	}
}
