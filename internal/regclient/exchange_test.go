package regclient_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/pkg/client"
)

// An identity token from a login is exchanged, from the egress address,
// for a refresh token that pushes as the null user; a password credential
// gets a refresh token of its own.
func TestExchange(t *testing.T) {
	ctx := context.Background()
	host := startBerth(t)
	c, err := client.New("http://" + host)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Login(ctx, client.LoginRequest{Username: "admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	anon := regclient.New(regclient.Options{PlainHTTP: true, Egress: netip.MustParseAddr("127.0.1.10")})
	refresh, err := anon.Exchange(ctx, host, id.AccessToken)
	if err != nil || refresh == "" {
		t.Fatalf("Exchange: %q %v", refresh, err)
	}
	src, _ := ocilayout.Create(t.TempDir())
	d := image(t, src, "exchanged")
	ref, _ := regclient.ParseReference(host + "/exchanged/app:v1")
	null := regclient.New(regclient.Options{PlainHTTP: true, Egress: netip.MustParseAddr("127.0.1.10"), Username: regclient.NullUser, Password: refresh})
	if _, err := null.Push(ctx, src, d, ref); err != nil {
		t.Fatalf("push with the exchanged refresh token: %v", err)
	}
	if got, err := null.RefreshToken(ctx, host); err != nil || got != refresh {
		t.Errorf("RefreshToken of a null-user client: %v", err)
	}

	if _, err := anon.Exchange(ctx, host, "not-a-token"); err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Errorf("exchange of a bad token: %v", err)
	}
	if _, err := anon.Exchange(ctx, "other.invalid:1", id.AccessToken); err == nil {
		t.Errorf("exchange at a host that is no registry succeeded")
	}

	admin := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"})
	r2, err := admin.RefreshToken(ctx, host)
	if err != nil || r2 == "" {
		t.Fatalf("RefreshToken(admin): %q %v", r2, err)
	}
	byRefresh := regclient.New(regclient.Options{PlainHTTP: true, Username: regclient.NullUser, Password: r2})
	if err := byRefresh.Ping(ctx, host); err != nil {
		t.Errorf("ping with the admin's refresh token: %v", err)
	}
	if _, err := anon.RefreshToken(ctx, host); err == nil {
		t.Errorf("RefreshToken without credentials succeeded")
	}
}
