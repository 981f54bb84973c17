// Package agent executes runs: it leases them from the server's agent API,
// pulls every base image a build names from its egress address into an OCI
// layout, drives BuildKit with those images as named contexts, pushes what
// BuildKit hands back, and reports the log, the outcome and the
// dependencies. BuildKit never talks to a registry itself, so the agent
// alone holds a run's credentials and every registry connection a run
// makes leaves from the agent's egress address.
package agent
