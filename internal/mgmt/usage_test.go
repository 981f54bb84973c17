package mgmt_test

import (
	"testing"
)

func TestRegistryUsage(t *testing.T) {
	e := newEnv(t)
	owner := dp{user: "admin", pass: ownerPassword}
	for _, repo := range []string{"a", "b"} {
		if status := e.push(owner, repo); status != 201 {
			t.Fatalf("push %s: %d", repo, status)
		}
	}
	// Each image has its own layer and the same two-byte config.
	want := map[string]float64{"Repositories": 2, "Manifests": 2, "Blobs": 3,
		"Size": float64(len("layer of a") + len("layer of b") + 2)}
	for _, repo := range []string{"a", "b"} {
		_, m := e.data(dp{path: "/v2/" + repo + "/manifests/v1", user: "admin", pass: ownerPassword})
		want["Size"] += float64(len(m))
	}
	got := e.must(200, e.owner, "GET", "/api/registries/default/usage", nil)
	values, _ := got["value"].([]any)
	if len(values) != 4 {
		t.Fatalf("usage = %v, want four figures", got)
	}
	for _, v := range values {
		f := v.(map[string]any)
		name, _ := f["name"].(string)
		if f["currentValue"] != want[name] {
			t.Errorf("%s = %v, want %v", name, f["currentValue"], want[name])
		}
		unit := "Count"
		if name == "Size" {
			unit = "Bytes"
		}
		if f["unit"] != unit {
			t.Errorf("%s unit = %v, want %s", name, f["unit"], unit)
		}
	}
	if r := e.call(e.owner, "GET", "/api/registries/nosuch/usage", nil); r.status != 404 {
		t.Errorf("usage of an unknown registry: %d, want 404", r.status)
	}
}
