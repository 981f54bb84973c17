// Package agent executes runs: it leases them from the server's agent API,
// pulls every base image a build names from its egress address into an OCI
// layout, drives BuildKit with those images as named contexts, pushes what
// BuildKit hands back, and reports the log, the outcome and the
// dependencies. BuildKit never talks to a registry itself, so the agent
// alone holds a run's credentials and every registry connection a run
// makes leaves from the agent's egress address.
//
// A quick build is one Dockerfile build and its push (run.go). A quick run
// or a task run (Job.Steps) is a task file, a --cmd or a Dockerfile task,
// scheduled by internal/taskfile: its source comes from an upload,
// /dev/null, git or an oci:// artifact; it logs in to each registry it has
// a credential for (a task identity's token exchanged at the registry);
// its steps build, push, run an image's command through BuildKit, or run a
// built-in berth command (berth purge) inside the agent (steps.go,
// stepexec.go, login.go, builtin.go).
package agent
