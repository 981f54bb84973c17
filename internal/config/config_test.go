package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string // "" = valid
	}{
		{"embedded default", func(c *Config) {}, ""},
		{"loopback v6", func(c *Config) { c.Listen = []string{"[::1]:5000"} }, ""},
		{"localhost", func(c *Config) { c.Listen = []string{"localhost:5000"} }, ""},
		{"any address without TLS", func(c *Config) { c.Listen = []string{"0.0.0.0:5000"} }, "--insecure"},
		{"any address with --insecure", func(c *Config) { c.Listen = []string{"0.0.0.0:5000"}; c.Insecure = true }, ""},
		{"any address with TLS", func(c *Config) {
			c.Listen = []string{"0.0.0.0:5000"}
			c.TLS = TLS{Cert: "c.pem", Key: "k.pem"}
		}, ""},
		{"cert without key", func(c *Config) { c.TLS.Cert = "c.pem" }, "tls: give both"},
		{"no listen", func(c *Config) { c.Listen = nil }, "listen: at least one"},
		{"bad listen", func(c *Config) { c.Listen = []string{"5000"} }, `listen "5000"`},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "dataDir"},
		{"short default registry", func(c *Config) { c.DefaultRegistry = "abc" }, "defaultRegistry"},
		{"upper-case registry", func(c *Config) { c.Registries = []Registry{{Name: "MyRegistry"}} }, "registries[0].name"},
		{"registry listed twice", func(c *Config) {
			c.Registries = []Registry{{Name: "teamone"}, {Name: "teamone"}}
		}, "listed twice"},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, "logLevel"},
		{"short run lease", func(c *Config) { c.RunLeaseDuration = 3 * time.Second }, ""},
		{"run lease under a second", func(c *Config) { c.RunLeaseDuration = 500 * time.Millisecond }, "runLeaseDuration"},
		{"no run lease", func(c *Config) { c.RunLeaseDuration = 0 }, "runLeaseDuration"},
		{"no gc grace period", func(c *Config) { c.GCGracePeriod = 0 }, ""},
		{"negative gc grace period", func(c *Config) { c.GCGracePeriod = -time.Second }, "gcGracePeriod"},
		{"no gc interval", func(c *Config) { c.GCInterval = 0 }, "gcInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("listen: [127.0.0.1:6000]\nregistries:\n  - name: blogbuildtest\n    loginServer: 127.0.3.1:6000\n"), 0o600)
	c, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen[0] != "127.0.0.1:6000" || c.Registries[0].LoginServer != "127.0.3.1:6000" || c.Region != "local" {
		t.Fatalf("loaded %+v", c)
	}
	if c.RunLeaseDuration != 30*time.Second {
		t.Fatalf("runLeaseDuration defaults to %s, want 30s", c.RunLeaseDuration)
	}
	lease := filepath.Join(dir, "lease.yaml")
	os.WriteFile(lease, []byte("runLeaseDuration: 3s\n"), 0o600)
	if c, err := Load(lease); err != nil || c.RunLeaseDuration != 3*time.Second {
		t.Fatalf("runLeaseDuration: 3s loaded as %s, %v", c.RunLeaseDuration, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listne: [127.0.0.1:6000]\n"), 0o600)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("unknown key: err = %v, want it named", err)
	}
}
