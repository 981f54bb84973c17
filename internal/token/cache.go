package token

import (
	"sync"
	"sync/atomic"
)

// maxVerified bounds the tokens a keyring remembers, about 4 MB of them.
// Clients reuse an access token for every request until it expires, so a
// few hundred are live at any time.
const maxVerified = 4096

// verifiedTokens remembers tokens whose MAC and JSON have been checked, by
// the whole token string: decoding the claims costs several times the MAC,
// and each data-plane request carries a token. It lives in a keyring, so
// that Refresh, which swaps the keyring, forgets every token. The time,
// kind and audience of a token are checked on every use, not remembered.
//
// The lookup compares strings in variable time, but only strings with the
// same hash under the map's random seed, which a client cannot aim at.
type verifiedTokens struct {
	m sync.Map // token string → *verified
	n atomic.Int32
}

type verified struct {
	key    *signingKey
	claims Claims
}

func (v *verifiedTokens) get(token string) *verified {
	e, ok := v.m.Load(token)
	if !ok {
		return nil
	}
	return e.(*verified)
}

func (v *verifiedTokens) put(token string, e *verified) {
	if _, loaded := v.m.LoadOrStore(token, e); loaded {
		return
	}
	// When full, start again rather than keep track of what is old: live
	// tokens come back after one more decode each.
	if v.n.Add(1) > maxVerified {
		v.m.Clear()
		v.n.Store(0)
	}
}

func (v *verifiedTokens) forget(token string) {
	if _, loaded := v.m.LoadAndDelete(token); loaded {
		v.n.Add(-1)
	}
}

// cloneAccess copies a, so that a caller changing the claims Verify
// returned cannot change those remembered. Two allocations whatever the
// size.
func cloneAccess(a []Access) []Access {
	if a == nil {
		return nil
	}
	n := 0
	for _, x := range a {
		n += len(x.Actions)
	}
	actions := make([]string, 0, n)
	out := make([]Access, len(a))
	for i, x := range a {
		out[i] = x
		if x.Actions != nil {
			start := len(actions)
			actions = append(actions, x.Actions...)
			out[i].Actions = actions[start:len(actions):len(actions)]
		}
	}
	return out
}
