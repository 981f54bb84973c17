package mgmt

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// resource is every answer's envelope: {"id","name","type","location"?,"properties"}.
type resource struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Location   string `json:"location,omitempty"`
	Properties any    `json:"properties"`
}

// list is the envelope of a listing.
type list[T any] struct {
	Value []T `json:"value"`
}

func newList[T any](v []T) list[T] {
	if v == nil {
		v = []T{}
	}
	return list[T]{Value: v}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // messages show <registry>, not \u003cregistry\u003e
	if err := enc.Encode(v); err != nil {
		return err
	}
	b := buf.Bytes()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b) // a failure here is a client gone: nothing more can be said to it
	return nil
}

// created answers 201 with v.
func created(w http.ResponseWriter, v any) error { return writeJSON(w, http.StatusCreated, v) }

// ok answers 200 with v.
func ok(w http.ResponseWriter, v any) error { return writeJSON(w, http.StatusOK, v) }

// noContent answers 204.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decode reads the request's JSON body into v: one object, no unknown
// fields. An empty body leaves v as it is when optional, and is an error
// otherwise.
func decode(r *http.Request, v any, optional bool) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return invalid("the call needs a JSON body")
	}
	return decodeBytes(b, v)
}

// decodeBytes reads one JSON object with no unknown fields from b.
func decodeBytes(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return invalid("the body must be one JSON object")
	}
	return nil
}
