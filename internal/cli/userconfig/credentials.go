package userconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const credentialsFile = "credentials.json"

// Login is the identity token kept for one server.
type Login struct {
	Server        string    `json:"server"`
	Principal     string    `json:"principal"`     // user name or service principal application ID
	PrincipalType string    `json:"principalType"` // "user" or "servicePrincipal"
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expiresAt,omitzero"`
}

// Expired reports whether the token's lifetime, when known, has ended at now.
func (l Login) Expired(now time.Time) bool {
	return !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt)
}

// credentials is credentials.json. Tokens are kept per server so that a
// token is only ever sent to the server that issued it, whatever
// BERTH_SERVER says later.
type credentials struct {
	Logins []Login `json:"logins"`
}

func (c *Config) credentialsPath() string { return filepath.Join(c.dir, credentialsFile) }

func (c *Config) readCredentials() (credentials, error) {
	var cr credentials
	b, err := os.ReadFile(c.credentialsPath())
	if errors.Is(err, os.ErrNotExist) {
		return cr, nil
	}
	if err != nil {
		return cr, err
	}
	if err := json.Unmarshal(b, &cr); err != nil {
		return cr, fmt.Errorf("reading %s: %w (run `berth logout` and log in again)", c.credentialsPath(), err)
	}
	return cr, nil
}

// Login returns the login kept for server, or false when there is none.
func (c *Config) Login(server string) (Login, bool, error) {
	cr, err := c.readCredentials()
	if err != nil {
		return Login{}, false, err
	}
	for _, l := range cr.Logins {
		if l.Server == server {
			return l, true, nil
		}
	}
	return Login{}, false, nil
}

// SaveLogin keeps l, replacing any login for the same server.
func (c *Config) SaveLogin(l Login) error {
	cr, err := c.readCredentials()
	if err != nil {
		return err
	}
	kept := []Login{l}
	for _, x := range cr.Logins {
		if x.Server != l.Server {
			kept = append(kept, x)
		}
	}
	return c.writeCredentials(credentials{Logins: kept})
}

// DeleteLogin forgets the login for server and reports whether there was
// one. The file is removed when no login is left.
func (c *Config) DeleteLogin(server string) (bool, error) {
	cr, err := c.readCredentials()
	if err != nil {
		return false, err
	}
	var kept []Login
	for _, x := range cr.Logins {
		if x.Server != server {
			kept = append(kept, x)
		}
	}
	if len(kept) == len(cr.Logins) {
		return false, nil
	}
	if len(kept) == 0 {
		if err := os.Remove(c.credentialsPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return true, err
		}
		return true, nil
	}
	return true, c.writeCredentials(credentials{Logins: kept})
}

func (c *Config) writeCredentials(cr credentials) error {
	b, err := json.MarshalIndent(cr, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(c.dir, credentialsFile, append(b, '\n'))
}
