package userconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// registryCredentialsFile is where docker-credential-berth keeps what it
// gives docker-compatible clients: registry refresh tokens, renewed by
// itself, and whatever `docker login` asked it to store.
const registryCredentialsFile = "registry-credentials.json"

// RegistryCredential is what the credential helper keeps for one registry.
type RegistryCredential struct {
	ServerURL string `json:"serverURL"` // as the client gave it
	Username  string `json:"username"`
	Secret    string `json:"secret"`
}

type registryCredentials struct {
	Credentials []RegistryCredential `json:"credentials"`
}

// RegistryKey is the form of a registry address that credentials are kept
// under: without scheme and trailing slash, so that "https://h:5000/" and
// "h:5000", which clients use for the same registry, find the same entry.
func RegistryKey(serverURL string) string {
	s := strings.TrimSpace(serverURL)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	return strings.TrimRight(s, "/")
}

func (c *Config) registryCredentialsPath() string {
	return filepath.Join(c.dir, registryCredentialsFile)
}

func (c *Config) readRegistryCredentials() (registryCredentials, error) {
	var rc registryCredentials
	b, err := os.ReadFile(c.registryCredentialsPath())
	if errors.Is(err, os.ErrNotExist) {
		return rc, nil
	}
	if err != nil {
		return rc, err
	}
	if err := json.Unmarshal(b, &rc); err != nil {
		return rc, fmt.Errorf("reading %s: %w", c.registryCredentialsPath(), err)
	}
	return rc, nil
}

func (c *Config) writeRegistryCredentials(rc registryCredentials) error {
	if len(rc.Credentials) == 0 {
		if err := os.Remove(c.registryCredentialsPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(rc, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(c.dir, registryCredentialsFile, append(b, '\n'))
}

// RegistryCredential returns what is kept for serverURL (any form of it,
// see RegistryKey), or false.
func (c *Config) RegistryCredential(serverURL string) (RegistryCredential, bool, error) {
	rc, err := c.readRegistryCredentials()
	if err != nil {
		return RegistryCredential{}, false, err
	}
	key := RegistryKey(serverURL)
	for _, x := range rc.Credentials {
		if RegistryKey(x.ServerURL) == key {
			return x, true, nil
		}
	}
	return RegistryCredential{}, false, nil
}

// SaveRegistryCredential keeps cred, replacing what was kept for the same
// registry (file mode 0600).
func (c *Config) SaveRegistryCredential(cred RegistryCredential) error {
	rc, err := c.readRegistryCredentials()
	if err != nil {
		return err
	}
	key := RegistryKey(cred.ServerURL)
	rc.Credentials = slices.DeleteFunc(rc.Credentials, func(x RegistryCredential) bool { return RegistryKey(x.ServerURL) == key })
	rc.Credentials = append(rc.Credentials, cred)
	return c.writeRegistryCredentials(rc)
}

// DeleteRegistryCredential forgets what is kept for serverURL and reports
// whether there was anything. The file is removed when nothing is left.
func (c *Config) DeleteRegistryCredential(serverURL string) (bool, error) {
	rc, err := c.readRegistryCredentials()
	if err != nil {
		return false, err
	}
	key := RegistryKey(serverURL)
	n := len(rc.Credentials)
	rc.Credentials = slices.DeleteFunc(rc.Credentials, func(x RegistryCredential) bool { return RegistryKey(x.ServerURL) == key })
	if len(rc.Credentials) == n {
		return false, nil
	}
	return true, c.writeRegistryCredentials(rc)
}

// RegistryCredentials returns everything kept, in the order it was saved.
func (c *Config) RegistryCredentials() ([]RegistryCredential, error) {
	rc, err := c.readRegistryCredentials()
	return rc.Credentials, err
}
