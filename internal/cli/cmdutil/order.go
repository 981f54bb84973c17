package cmdutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jmespath-community/go-jmespath/pkg/parsing"
)

// JMESPath works on map[string]any, which has no key order, but a user
// expects the columns and fields of a result in the order the API gives them
// (or the order their --query names them, as in "[].{Name:name, Id:id}").
// keyOrder remembers those orders while the result is decoded and the query
// parsed, and apply puts them back on the query's result.

// object is a JSON object with its keys in order; field values are
// themselves object, []any or scalars (string, float64, bool, nil).
type object []field

type field struct {
	key string
	val any
}

type keyOrder struct {
	bySet map[string][]string // key set (sorted, joined) → first order seen
	rank  map[string]int      // key → position of its first appearance
}

func newKeyOrder() *keyOrder {
	return &keyOrder{bySet: map[string][]string{}, rank: map[string]int{}}
}

func setKey(keys []string) string {
	s := slices.Clone(keys)
	slices.Sort(s)
	return strings.Join(s, "\x00")
}

func (k *keyOrder) see(key string) {
	if _, ok := k.rank[key]; !ok {
		k.rank[key] = len(k.rank)
	}
}

// learn records order for its key set; override lets the query's own order
// win over the data's.
func (k *keyOrder) learn(order []string, override bool) {
	s := setKey(order)
	if _, ok := k.bySet[s]; !ok || override {
		k.bySet[s] = order
	}
}

// learnQuery records the key order of every multi-select hash in expr.
func (k *keyOrder) learnQuery(expr string) {
	ast, err := parsing.NewParser().Parse(expr)
	if err != nil {
		return // compileQuery has already reported it
	}
	var walk func(n parsing.ASTNode)
	walk = func(n parsing.ASTNode) {
		if n.NodeType == parsing.ASTMultiSelectHash {
			var order []string
			for _, c := range n.Children {
				if name, ok := c.Value.(string); ok && c.NodeType == parsing.ASTKeyValPair {
					k.see(name)
					order = append(order, name)
				}
			}
			k.learn(order, true)
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(ast)
}

// order returns m's keys: an order seen for exactly this key set, else by
// first appearance anywhere, keys never seen last and sorted.
func (k *keyOrder) order(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	if o, ok := k.bySet[setKey(keys)]; ok {
		return o
	}
	slices.SortFunc(keys, func(a, b string) int {
		ra, oka := k.rank[a]
		rb, okb := k.rank[b]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// apply turns the maps of v into objects with their keys in order.
func (k *keyOrder) apply(v any) any {
	switch v := v.(type) {
	case map[string]any:
		obj := make(object, 0, len(v))
		for _, key := range k.order(v) {
			obj = append(obj, field{key, k.apply(v[key])})
		}
		return obj
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = k.apply(x)
		}
		return out
	}
	return v
}

// decodeOrdered decodes JSON into the generic values JMESPath works on
// (map[string]any, []any, float64, string, bool, nil), teaching k the order
// of every object's keys. Numbers are float64 as JMESPath needs: integers
// are exact up to 2^53, which sizes and counts stay under.
func decodeOrdered(raw []byte, k *keyOrder) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	return decodeValue(dec, k)
}

func decodeValue(dec *json.Decoder, k *keyOrder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return t, nil
	}
	switch d {
	case '{':
		m := map[string]any{}
		var order []string
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := kt.(string)
			k.see(key)
			v, err := decodeValue(dec, k)
			if err != nil {
				return nil, err
			}
			if _, dup := m[key]; !dup {
				order = append(order, key)
			}
			m[key] = v
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
		k.learn(order, false)
		return m, nil
	case '[':
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec, k)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, err
		}
		return list, nil
	}
	return nil, fmt.Errorf("unexpected %v", d)
}
