// Package clients holds end-to-end tests that drive real registry clients
// (crane, oras, regctl, skopeo) against a real `berth serve` process.
// The clients are installed by `make tools`; the tests fail without them.
package clients
