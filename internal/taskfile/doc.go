// Package taskfile owns berth's multi-step task file: the YAML a user writes
// for `berth run -f task.yaml` or a stored task, modelled on the managed
// cloud registry's multi-step task files.
//
// A file has a version, a default stepTimeout, env for every step, the
// secrets it uses, user aliases, and a list of steps. Each step is one of
// build (docker build arguments), push (a list of images) or cmd (an image
// and its arguments, run as a container), with id, when, timeout, env,
// workingDirectory, retries, retryDelay, ignoreErrors and network.
//
// Before the YAML is read, aliases ($Registry, $ID, $RegistryName, $Date and
// the file's own) are expanded in the raw text, then the text is rendered
// with text/template ({{.Values.x}}, {{.Run.ID}}, {{.Secrets.x}}, …).
// Parse does both and then decodes and validates the file strictly; Run
// schedules its steps as a graph and calls the caller's function for each.
//
// The package is pure: it does no I/O and knows nothing of registries,
// agents or build engines. Running a step, logging it and redacting secrets
// are the caller's. The scheduler's only contact with time is the step
// timeouts and the retry delays, the latter through RunOptions.
package taskfile
