package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/berth-project/berth/internal/auth"
	"github.com/berth-project/berth/internal/importer"
)

// newImporter returns the import service. It reads registries of this
// server over the network like any client, through their login servers,
// so it trusts this server's own certificate besides the system roots.
// Its built-in trusted-service principal is created here, once.
func (s *Server) newImporter(ctx context.Context) (*importer.Service, error) {
	o := importer.Options{Store: s.db, Registries: s.svc, Tokens: s.tokens, Domain: s.cfg.Domain,
		PlainHTTP: s.cfg.TLS.Cert == "", Claims: auth.PrincipalClaims}
	if s.cfg.TLS.Cert != "" {
		pem, err := os.ReadFile(s.cfg.TLS.Cert)
		if err != nil {
			return nil, fmt.Errorf("import service: %w", err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		roots.AppendCertsFromPEM(pem)
		o.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	imp := importer.New(o)
	if err := imp.EnsurePrincipal(ctx); err != nil {
		return nil, fmt.Errorf("create the import service's principal: %w", err)
	}
	return imp, nil
}
