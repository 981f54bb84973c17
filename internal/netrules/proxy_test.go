package netrules

import (
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	ps, err := ParseProxies([]string{"127.0.5.0/24", " 10.9.9.9 ", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		peer      string
		forwarded []string
		xff       []string
		want      string
	}{
		{"untrusted peer ignores forged XFF", "127.0.9.9", nil, []string{"127.0.0.1"}, "127.0.9.9"},
		{"untrusted peer ignores Forwarded", "127.0.9.9", []string{"for=127.0.0.1"}, nil, "127.0.9.9"},
		{"trusted peer without headers", "127.0.5.1", nil, nil, "127.0.5.1"},
		{"trusted peer names the client", "127.0.5.1", nil, []string{"127.0.1.10"}, "127.0.1.10"},
		{"rightmost untrusted hop wins", "127.0.5.1", nil, []string{"1.2.3.4, 127.0.1.10, 10.9.9.9"}, "127.0.1.10"},
		{"several header lines", "127.0.5.1", nil, []string{"1.2.3.4", "127.0.1.10"}, "127.0.1.10"},
		{"garbage hop stops the walk", "127.0.5.1", nil, []string{"127.0.0.1, not-an-ip"}, "127.0.5.1"},
		{"garbage after a trusted hop", "127.0.5.1", nil, []string{"127.0.0.1, junk, 10.9.9.9"}, "10.9.9.9"},
		{"all hops trusted", "127.0.5.1", nil, []string{"10.9.9.9"}, "10.9.9.9"},
		{"Forwarded preferred", "127.0.5.1", []string{`for=127.0.1.11;proto=https`}, []string{"127.0.1.12"}, "127.0.1.11"},
		{"Forwarded with port and quotes", "127.0.5.1", []string{`for="127.0.1.11:4711"`}, nil, "127.0.1.11"},
		{"Forwarded IPv6", "127.0.5.1", []string{`for="[2001:db8::1]:80"`}, nil, "2001:db8::1"},
		{"Forwarded list", "127.0.5.1", []string{`for=1.2.3.4, for=127.0.1.13`}, nil, "127.0.1.13"},
		{"mapped peer", "::ffff:127.0.5.1", nil, []string{"127.0.1.10"}, "127.0.1.10"},
		{"IPv6 trusted peer", "::1", nil, []string{"127.0.1.10"}, "127.0.1.10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ps.ClientIP(netip.MustParseAddr(tt.peer), tt.forwarded, tt.xff)
			if got.String() != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
	var none Proxies
	if got := none.ClientIP(netip.MustParseAddr("127.0.5.1"), nil, []string{"1.2.3.4"}); got.String() != "127.0.5.1" {
		t.Errorf("no proxies: ClientIP = %s", got)
	}
}

func TestParseProxiesErrors(t *testing.T) {
	for _, s := range []string{"not-an-ip", "10.0.0.0/33", ""} {
		if _, err := ParseProxies([]string{s}); err == nil {
			t.Errorf("ParseProxies(%q): no error", s)
		}
	}
}
