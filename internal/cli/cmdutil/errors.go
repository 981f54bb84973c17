package cmdutil

// SilentError is an error a command has already reported in its own way
// (the credential helper, whose protocol puts errors on standard output):
// the root exits 1 without printing "Error: …" again.
type SilentError struct{ Err error }

func (e *SilentError) Error() string { return e.Err.Error() }
func (e *SilentError) Unwrap() error { return e.Err }
