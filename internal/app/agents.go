package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/agentapi"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// agentPools are the configured pools with their agents' tokens: the
// configured token, or one generated into the data directory at the first
// start and read from there after (every replica on the data directory
// reads the same).
func agentPools(cfg config.Config) ([]agentapi.Pool, error) {
	var out []agentapi.Pool
	for _, p := range cfg.AgentPools {
		tok := p.Token
		if tok == "" {
			var err error
			if tok, err = loadOrCreateToken(agentTokenPath(cfg.DataDir, p.Name)); err != nil {
				return nil, fmt.Errorf("agent pool %s: %w", p.Name, err)
			}
		}
		out = append(out, agentapi.Pool{Name: p.Name, Token: tok})
	}
	return out, nil
}

// agentTokenPath is where the generated token of pool is kept.
func agentTokenPath(dataDir, pool string) string {
	if pool == "local" {
		return filepath.Join(dataDir, "agent-token")
	}
	return filepath.Join(dataDir, "agent-token."+pool)
}

// loadOrCreateToken reads the token at path, or writes a new one there
// (mode 0600). The file appears whole or not at all: a replica starting
// at the same moment reads the token this one wrote, or writes its own
// and loses the race to link it in.
func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("%s is empty: delete it to have a token generated, or set the pool's token", path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	tok := hex.EncodeToString(raw)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".agent-token-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.WriteString(tok + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return loadOrCreateToken(path)
	} else if err != nil {
		return "", err
	}
	return tok, nil
}

// runPools are the pools runs may be queued on.
func runPools(cfg config.Config) []runs.Pool {
	var out []runs.Pool
	for _, p := range cfg.AgentPools {
		out = append(out, runs.Pool{Name: p.Name, Location: p.Location})
	}
	return out
}

// agentLoginServer is the address an agent pushes a registry's images to:
// its login server, or, for a registry reached only as the default, the
// server's first listen address (127.0.0.1 for an unspecified host).
func agentLoginServer(db *meta.DB, cfg config.Config) func(ctx context.Context, name string) (string, error) {
	domain := strings.ToLower(cfg.Domain)
	return func(ctx context.Context, name string) (string, error) {
		reg, err := db.Registry(ctx, name)
		if err != nil {
			return "", err
		}
		if ls := registry.LoginServer(reg, domain); ls != "" {
			return ls, nil
		}
		if len(cfg.Listen) == 0 {
			return "", nil
		}
		return reachableAddr(cfg.Listen[0]), nil
	}
}

// reachableAddr is where a listener on addr is reached from this machine:
// addr itself, or 127.0.0.1 with its port when it listens on all
// addresses (":5000", "0.0.0.0:5000").
func reachableAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// AgentToken is the token agents of pool present, "" for an unknown pool
// (tests, and the in-process agent of the embedded default).
func (s *Server) AgentToken(pool string) string {
	for _, p := range s.agentPools {
		if p.Name == pool {
			return p.Token
		}
	}
	return ""
}
