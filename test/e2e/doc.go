// Package e2e runs the scenarios of shared/design/SCENARIOS.md end to end:
// the real berth binary as a server and as a CLI, each in subprocesses, and
// real registry clients (crane, oras, regctl, skopeo, installed by
// `make tools`), each test with private homes for berth's and the clients'
// configuration.
package e2e
