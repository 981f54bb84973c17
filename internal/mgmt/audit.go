package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
)

// The audit of a registry's network perimeter: the requests its rules
// refused (written by the data plane) and who changed its network
// settings, what and when (written here, in the transaction of the
// change). Reading either needs manage read on the registry.

// denialView is a refused request as the API shows it.
type denialView struct {
	Time     time.Time `json:"time"`
	Registry string    `json:"registry"`
	ClientIP string    `json:"clientIp"`
	Identity string    `json:"identity"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Reason   string    `json:"reason"`
}

// changeView is a change of network settings as the API shows it.
type changeView struct {
	Time          time.Time       `json:"time"`
	Registry      string          `json:"registry"`
	PrincipalName string          `json:"principalName"`
	PrincipalID   string          `json:"principalId"`
	PrincipalType string          `json:"principalType"`
	Summary       string          `json:"summary"`
	Changes       json.RawMessage `json:"changes"`
}

// Bounds of ?top=.
const (
	defaultTop = 100
	maxTop     = 1000
)

func (a *API) listNetworkDenials(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, since, top, err := a.auditQuery(r, c)
	if err != nil {
		return err
	}
	ds, err := a.db.NetworkDenials(r.Context(), reg.ID, since, top)
	if err != nil {
		return err
	}
	out := make([]denialView, 0, len(ds))
	for _, d := range ds {
		out = append(out, denialView{Time: d.At, Registry: d.Registry, ClientIP: d.ClientIP, Identity: d.Identity,
			Method: d.Method, Path: d.Path, Reason: d.Reason})
	}
	return ok(w, newList(out))
}

func (a *API) listNetworkChanges(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, since, top, err := a.auditQuery(r, c)
	if err != nil {
		return err
	}
	cs, err := a.db.NetworkChanges(r.Context(), reg.ID, since, top)
	if err != nil {
		return err
	}
	out := make([]changeView, 0, len(cs))
	for _, x := range cs {
		v := changeView{Time: x.At, Registry: x.Registry, PrincipalName: x.PrincipalName, PrincipalID: x.PrincipalID,
			PrincipalType: principalTypes[x.PrincipalKind], Changes: json.RawMessage(x.Change)}
		if v.PrincipalType == "" {
			v.PrincipalType = x.PrincipalKind
		}
		if !json.Valid(v.Changes) {
			v.Changes = json.RawMessage(`{}`)
		}
		v.Summary = summarize(v.Changes)
		out = append(out, v)
	}
	return ok(w, newList(out))
}

// auditQuery authorizes a read of a registry's audit and reads ?since=
// and ?top=.
func (a *API) auditQuery(r *http.Request, c *caller) (reg meta.Registry, since time.Time, top int, err error) {
	reg, err = a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return reg, since, top, err
	}
	q := r.URL.Query()
	if since, err = parseSince(q.Get("since"), a.now()); err != nil {
		return reg, since, top, err
	}
	top = defaultTop
	if s := q.Get("top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxTop {
			return reg, since, top, invalid("top %q: give a whole number from 1 to %d", s, maxTop)
		}
		top = n
	}
	return reg, since, top, nil
}

var days = regexp.MustCompile(`^(\d+)d(.*)$`)

// parseSince reads ?since=: a duration back from now (a Go duration, with
// an optional leading number of days: 30m, 24h, 7d, 1d12h), or an RFC 3339
// time. Empty is no bound.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	bad := invalid("since %q: give a duration such as 30m, 24h or 7d, or an RFC 3339 time such as 2026-01-02T15:04:05Z", s)
	var d time.Duration
	rest := s
	if m := days.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100*365 {
			return time.Time{}, bad
		}
		d, rest = time.Duration(n)*24*time.Hour, m[2]
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil {
			return time.Time{}, bad
		}
		d += more
	}
	if d <= 0 {
		return time.Time{}, invalid("since %q: the duration must be more than zero", s)
	}
	return now.Add(-d), nil
}

// fromTo is a setting that changed from one value to another.
type fromTo struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// setChange is a list setting that changed: what was added and removed,
// and whether only the order changed.
type setChange struct {
	Added     []string `json:"added"`
	Removed   []string `json:"removed"`
	Reordered bool     `json:"reordered,omitempty"`
}

// networkChanges describes what differs between two network settings, by
// property path as the API names them; empty when nothing does.
func networkChanges(old, new meta.Network) map[string]any {
	out := map[string]any{}
	was, is := showNetwork(old), showNetwork(new)
	if was.PublicNetworkAccess != is.PublicNetworkAccess {
		out["publicNetworkAccess"] = fromTo{was.PublicNetworkAccess, is.PublicNetworkAccess}
	}
	if was.NetworkRuleSet.DefaultAction != is.NetworkRuleSet.DefaultAction {
		out["networkRuleSet.defaultAction"] = fromTo{was.NetworkRuleSet.DefaultAction, is.NetworkRuleSet.DefaultAction}
	}
	if !slices.Equal(old.IPRules, new.IPRules) {
		ch := setChange{Added: []string{}, Removed: []string{}}
		for _, v := range new.IPRules {
			if !slices.Contains(old.IPRules, v) {
				ch.Added = append(ch.Added, v)
			}
		}
		for _, v := range old.IPRules {
			if !slices.Contains(new.IPRules, v) {
				ch.Removed = append(ch.Removed, v)
			}
		}
		ch.Reordered = len(ch.Added) == 0 && len(ch.Removed) == 0
		out["networkRuleSet.ipRules"] = ch
	}
	if was.NetworkRuleBypassOptions != is.NetworkRuleBypassOptions {
		out["networkRuleBypassOptions"] = fromTo{was.NetworkRuleBypassOptions, is.NetworkRuleBypassOptions}
	}
	if was.NetworkRuleBypassAllowedForTasks != is.NetworkRuleBypassAllowedForTasks {
		out["networkRuleBypassAllowedForTasks"] = fromTo{was.NetworkRuleBypassAllowedForTasks, is.NetworkRuleBypassAllowedForTasks}
	}
	return out
}

// endpointChange describes a private endpoint connection whose state went
// from one to another ("" for none: created, deleted), with the address it
// listens on.
func endpointChange(e meta.PrivateEndpoint, from, to string) map[string]any {
	v := struct {
		From    any    `json:"from"`
		To      any    `json:"to"`
		Address string `json:"address"`
	}{Address: e.Address}
	if from != "" {
		v.From = from
	}
	if to != "" {
		v.To = to
	}
	return map[string]any{"privateEndpointConnections/" + e.Name: v}
}

// recordNetworkChange writes, in tx, that the caller changed registry
// reg's network settings as changes describes. Call it in the transaction
// of the change itself, so that the record and the change stand or fall
// together, and only when something changed.
func recordNetworkChange(ctx context.Context, tx *meta.Tx, c *caller, reg int64, changes map[string]any) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	return tx.AddNetworkChange(ctx, &meta.NetworkChange{RegistryID: reg, PrincipalID: c.principal.ID,
		PrincipalName: c.principal.Name, PrincipalKind: c.principal.Kind, Change: string(b)})
}

// summarize says a recorded change in one line, for tables:
// `publicNetworkAccess: Enabled -> Disabled; networkRuleSet.ipRules: +10.0.0.0/24 -127.0.0.1`.
func summarize(raw json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var ft map[string]any
		json.Unmarshal(m[k], &ft)
		var words []string
		if _, ok := ft["from"]; ok {
			words = append(words, fmt.Sprintf("%v -> %v", word(ft["from"]), word(ft["to"])))
		}
		var sc setChange
		if json.Unmarshal(m[k], &sc) == nil {
			for _, v := range sc.Added {
				words = append(words, "+"+v)
			}
			for _, v := range sc.Removed {
				words = append(words, "-"+v)
			}
			if sc.Reordered {
				words = append(words, "reordered")
			}
		}
		parts = append(parts, k+": "+strings.Join(words, " "))
	}
	return strings.Join(parts, "; ")
}

// word is a value of a summary: null (a thing created or deleted) is
// "none".
func word(v any) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprint(v)
}
