// Package dockerconfig reads and writes what docker-compatible clients
// (docker, podman, crane, oras, regctl, skopeo, helm) read credentials
// from: Docker's config.json and credential helpers
// (docker-credential-<name>). It keeps every part of config.json it does not
// change, and knows nothing of berth's server.
package dockerconfig

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvDir names the directory of config.json, as docker reads it.
const EnvDir = "DOCKER_CONFIG"

// Path returns $DOCKER_CONFIG/config.json, or ~/.docker/config.json.
func Path() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return filepath.Join(d, "config.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding docker's config.json (set %s): %w", EnvDir, err)
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

// Config is a config.json. Only credsStore, credHelpers and auths are
// understood; every other key is written back as it was read.
type Config struct {
	path string
	raw  map[string]json.RawMessage
}

// Load reads the config.json at path; a missing file is an empty config.
func Load(path string) (*Config, error) {
	c := &Config{path: path, raw: map[string]json.RawMessage{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c.raw); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if c.raw == nil { // the file held null
		c.raw = map[string]json.RawMessage{}
	}
	return c, nil
}

// Path returns where the config is read from and written to.
func (c *Config) Path() string { return c.path }

// Helper returns the credential helper docker uses for server:
// credHelpers[server], else credsStore, else "" (credentials in auths).
func (c *Config) Helper(server string) (string, error) {
	var helpers map[string]string
	if err := c.get("credHelpers", &helpers); err != nil {
		return "", err
	}
	if h := helpers[server]; h != "" {
		return h, nil
	}
	var store string
	if err := c.get("credsStore", &store); err != nil {
		return "", err
	}
	return store, nil
}

func (c *Config) get(key string, v any) error {
	b, ok := c.raw[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %s: %w", c.path, key, err)
	}
	return nil
}

// SetAuth sets auths[server] to the user name and secret, replacing the
// whole entry (so that no stale identitytoken overrides it) and keeping the
// other servers' entries.
func (c *Config) SetAuth(server, username, secret string) error {
	auths := map[string]json.RawMessage{}
	if err := c.get("auths", &auths); err != nil {
		return err
	}
	if auths == nil {
		auths = map[string]json.RawMessage{}
	}
	entry, err := json.Marshal(map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(username + ":" + secret))})
	if err != nil {
		return err
	}
	auths[server] = entry
	b, err := json.Marshal(auths)
	if err != nil {
		return err
	}
	c.raw["auths"] = b
	return nil
}

// Save writes the config atomically with mode 0600 (it holds secrets),
// creating its directory with mode 0700 when needed.
func (c *Config) Save() error {
	b, err := json.MarshalIndent(c.raw, "", "\t")
	if err != nil {
		return err
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config.json.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path)
}

// Credentials are what a credential helper stores and gives back.
type Credentials struct {
	ServerURL string
	Username  string
	Secret    string
}

// NotFound is the message credential helpers answer get and erase with for
// a server they hold nothing for; docker then goes on anonymously.
const NotFound = "credentials not found in native keychain"

// Store hands c to the credential helper docker-credential-<helper>
// ("store", the credentials as JSON on its standard input).
func Store(ctx context.Context, helper string, c Credentials) error {
	in, err := json.Marshal(c)
	if err != nil {
		return err
	}
	prog := "docker-credential-" + helper
	cmd := exec.CommandContext(ctx, prog, "store")
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%s store: %s", prog, msg)
		}
		return fmt.Errorf("%s store: %w", prog, err)
	}
	return nil
}
