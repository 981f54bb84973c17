// Package crash holds the end-to-end crash-safety test: it kills a real
// `berth serve` with SIGKILL in the middle of concurrent pushes, restarts it
// on the same data directory and checks, through the public API, the
// SQLite file and the blob tree, that nothing acknowledged was lost, that
// no manifest refers to a missing blob, that no partial blob is ever served,
// and that upload sessions in flight resume or are cleanly unknown.
//
// It knows berth only from outside: the /v2 API, and the layout of the data
// directory (meta.db, blobs/<alg>/<2 hex>/<hex>, uploads/<id>).
package crash
