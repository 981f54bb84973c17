package mgmt

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPI describes the calls of docs/management-api.md. It is written by
// hand, beside the handlers, and a test checks that it names every route.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI answers GET /api/openapi.json; it needs no token.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPI)))
	w.Write(openAPI)
}
