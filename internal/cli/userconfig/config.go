// Package userconfig owns the command line's per-user files: config.yaml
// (server URL, defaults), credentials.json (identity tokens) and
// registry-credentials.json (what docker-credential-berth gives clients),
// all in $BERTH_CONFIG_DIR or <os.UserConfigDir()>/berth, written with mode
// 0600 in a directory of mode 0700. It knows nothing of HTTP or of the
// server.
package userconfig

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	// EnvDir names the directory that holds the user's files.
	EnvDir = "BERTH_CONFIG_DIR"
	// DefaultServer is the server of the embedded default (berth serve with
	// no flags).
	DefaultServer = "http://127.0.0.1:5000"

	configFile = "config.yaml"
)

// Dir returns $BERTH_CONFIG_DIR, or the "berth" directory under the
// operating system's user config directory.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the user config directory (set %s): %w", EnvDir, err)
	}
	return filepath.Join(d, "berth"), nil
}

// Key is a setting of config.yaml that `berth config` can set.
type Key struct {
	Name     string // dotted: "defaults.registry"
	Env      string // environment variable that overrides the file
	Default  string // value when neither is set
	Help     string
	validate func(string) (string, error) // returns the value to store
	field    func(*File) *string
}

// Keys lists the known settings, in the order `berth config get` shows them.
var Keys = []Key{
	{
		Name: "server", Env: "BERTH_SERVER", Default: DefaultServer,
		Help:     "URL of the berth server the commands talk to",
		validate: NormalizeServer,
		field:    func(f *File) *string { return &f.Server },
	},
	{
		Name: "defaults.registry", Env: "BERTH_DEFAULTS_REGISTRY",
		Help:     "registry used when a command is given no --registry",
		validate: validateRegistryName,
		field:    func(f *File) *string { return &f.Defaults.Registry },
	},
}

// KnownKeys returns the names of Keys.
func KnownKeys() []string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return names
}

func lookup(name string) (Key, error) {
	for _, k := range Keys {
		if k.Name == name {
			return k, nil
		}
	}
	return Key{}, fmt.Errorf("unknown config key %q: the known keys are %s", name, strings.Join(KnownKeys(), ", "))
}

// File is the content of config.yaml.
type File struct {
	Server   string   `yaml:"server,omitempty"`
	Defaults Defaults `yaml:"defaults,omitempty"`
}

// Defaults are the values commands use for flags that are not given.
type Defaults struct {
	Registry string `yaml:"registry,omitempty"`
}

// Config is the user's config.yaml, loaded from one directory.
type Config struct {
	dir  string
	File File
}

// Load reads config.yaml from dir; a missing file is an empty config.
func Load(dir string) (*Config, error) {
	c := &Config{dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, &c.File); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, configFile), err)
	}
	return c, nil
}

// Dir returns the directory the config was loaded from.
func (c *Config) Dir() string { return c.dir }

// Path returns the path of config.yaml.
func (c *Config) Path() string { return filepath.Join(c.dir, configFile) }

// Save writes config.yaml (mode 0600, directory 0700).
func (c *Config) Save() error {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&c.File); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return writePrivate(c.dir, configFile, b.Bytes())
}

// Set validates value and stores it under key in memory; Save writes it.
func (c *Config) Set(key, value string) error {
	k, err := lookup(key)
	if err != nil {
		return err
	}
	v, err := k.validate(value)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	*k.field(&c.File) = v
	return nil
}

// Unset removes key from the file's values in memory; Save writes it.
func (c *Config) Unset(key string) error {
	k, err := lookup(key)
	if err != nil {
		return err
	}
	*k.field(&c.File) = ""
	return nil
}

// Setting is a key's effective value and where it comes from.
type Setting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"` // "env BERTH_SERVER", "config file", "default", or "" when unset
}

// Get returns key's effective value: its environment variable, else the
// file, else its default.
func (c *Config) Get(key string) (Setting, error) {
	k, err := lookup(key)
	if err != nil {
		return Setting{}, err
	}
	s := Setting{Name: k.Name}
	if v := os.Getenv(k.Env); v != "" {
		nv, err := k.validate(v)
		if err != nil {
			return Setting{}, fmt.Errorf("%s: %w", k.Env, err)
		}
		s.Value, s.Source = nv, "env "+k.Env
	} else if v := *k.field(&c.File); v != "" {
		s.Value, s.Source = v, "config file"
	} else if k.Default != "" {
		s.Value, s.Source = k.Default, "default"
	}
	return s, nil
}

// Server returns the effective server URL.
func (c *Config) Server() (string, error) {
	s, err := c.Get("server")
	return s.Value, err
}

// DefaultRegistry returns the effective defaults.registry, "" when unset.
func (c *Config) DefaultRegistry() (string, error) {
	s, err := c.Get("defaults.registry")
	return s.Value, err
}

// NormalizeServer checks that s is an http or https URL with a host and
// returns it without a trailing slash.
func NormalizeServer(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || !strings.Contains(s, "://") {
		return "", fmt.Errorf("%q is not a URL: give the scheme too, as in %s", s, DefaultServer)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: the scheme must be http or https", s)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: give scheme://host[:port][/path] only", s)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func validateRegistryName(s string) (string, error) {
	if s == "" || strings.ContainsAny(s, " \t\r\n/:") {
		return "", fmt.Errorf("%q is not a registry name", s)
	}
	return s, nil
}

// writePrivate writes name in dir atomically (temporary file, then rename),
// with mode 0600, creating dir with mode 0700: the files hold tokens. An
// existing dir keeps its mode: BERTH_CONFIG_DIR may name a directory that is
// not berth's alone.
func writePrivate(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}
