package mgmt_test

import (
	"strings"
	"testing"
)

// Creating, changing and deleting a task need manage rights; running one
// needs push rights; reading one needs manage read.
func TestTaskRoles(t *testing.T) {
	e := newEnv(t)
	const tasks = "/api/registries/default/tasks"
	task := map[string]any{"step": map[string]any{"cmd": "base/busybox:1 true", "contextPath": "/dev/null"}}
	e.must(201, e.owner, "PUT", tasks+"/ownertask", task)
	contributor := e.newUser("contributor", "Contributor", "/registries/default")
	pusher := e.newUser("pusher", "AcrPush", "/registries/default")
	reader := e.newUser("reader", "Reader", "/registries/default")
	puller := e.newUser("puller", "AcrPull", "/registries/default")
	for _, tt := range []struct {
		who              string
		tok              string
		read, write, run bool
	}{
		{"Contributor", contributor, true, true, true},
		{"AcrPush", pusher, false, false, true},
		{"Reader", reader, true, false, false},
		{"AcrPull", puller, false, false, false},
	} {
		want := func(ok bool, success int) int {
			if ok {
				return success
			}
			return 403
		}
		if r := e.call(tt.tok, "GET", tasks+"/ownertask", nil); r.status != want(tt.read, 200) {
			t.Errorf("%s shows a task: %d %s", tt.who, r.status, r.body)
		}
		if r := e.call(tt.tok, "GET", tasks, nil); r.status != want(tt.read, 200) {
			t.Errorf("%s lists tasks: %d", tt.who, r.status)
		}
		name := strings.ToLower(strings.ReplaceAll(tt.who, " ", "")) + "task"
		if r := e.call(tt.tok, "PUT", tasks+"/"+name, task); r.status != want(tt.write, 201) {
			t.Errorf("%s creates a task: %d %s", tt.who, r.status, r.body)
		}
		if r := e.call(tt.tok, "PATCH", tasks+"/ownertask", map[string]any{"timeout": 60}); r.status != want(tt.write, 200) {
			t.Errorf("%s changes a task: %d %s", tt.who, r.status, r.body)
		}
		if r := e.call(tt.tok, "POST", tasks+"/ownertask/run", nil); r.status != want(tt.run, 201) {
			t.Errorf("%s runs a task: %d %s", tt.who, r.status, r.body)
		}
	}
	if r := e.call(pusher, "DELETE", tasks+"/ownertask", nil); r.status != 403 {
		t.Errorf("AcrPush deletes a task: %d", r.status)
	}
	e.must(204, contributor, "DELETE", tasks+"/ownertask", nil)
	if r := e.call(e.owner, "GET", tasks+"/ownertask", nil); r.status != 404 {
		t.Errorf("a deleted task: %d %s", r.status, r.body)
	}
}
