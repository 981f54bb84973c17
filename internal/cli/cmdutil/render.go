package cmdutil

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The values rendered here come from keyOrder.apply: object, []any, string,
// float64, bool or nil (and, from some JMESPath functions, other numbers).

func isScalar(v any) bool {
	switch v.(type) {
	case object, []any:
		return false
	}
	return true
}

// scalarJSON is the JSON text of a scalar, without HTML escaping.
func scalarJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return strconv.Quote(err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// text is a scalar as table and tsv show it: strings raw, null empty,
// numbers and booleans as in JSON.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	if !isScalar(v) {
		return compactJSON(v)
	}
	return scalarJSON(v)
}

func compactJSON(v any) string {
	var b bytes.Buffer
	writeJSONValue(&b, v, "", false, false)
	return b.String()
}

// ANSI colors of jsonc, as jq and az use them.
const (
	colorKey    = "\x1b[1;34m"
	colorString = "\x1b[32m"
	colorNumber = "\x1b[36m"
	colorBool   = "\x1b[33m"
	colorNull   = "\x1b[90m"
	colorReset  = "\x1b[0m"
)

func writeJSON(b *bytes.Buffer, v any, color bool) {
	writeJSONValue(b, v, "", true, color)
	b.WriteByte('\n')
}

func writeJSONValue(b *bytes.Buffer, v any, indent string, pretty, color bool) {
	paint := func(c, s string) {
		if color {
			b.WriteString(c + s + colorReset)
		} else {
			b.WriteString(s)
		}
	}
	inner := indent + "  "
	nl := func(ind string) {
		if pretty {
			b.WriteString("\n" + ind)
		}
	}
	switch v := v.(type) {
	case object:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(inner)
			paint(colorKey, scalarJSON(f.key))
			b.WriteByte(':')
			if pretty {
				b.WriteByte(' ')
			}
			writeJSONValue(b, f.val, inner, pretty, color)
		}
		nl(indent)
		b.WriteByte('}')
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(inner)
			writeJSONValue(b, x, inner, pretty, color)
		}
		nl(indent)
		b.WriteByte(']')
	case string:
		paint(colorString, scalarJSON(v))
	case bool:
		paint(colorBool, scalarJSON(v))
	case nil:
		paint(colorNull, "null")
	default:
		paint(colorNumber, scalarJSON(v))
	}
}

func writeYAML(b *bytes.Buffer, v any) error {
	n, err := yamlNode(v)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

func yamlNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case object:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, f := range v {
			val, err := yamlNode(f.val)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, x := range v {
			val, err := yamlNode(x)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	case float64:
		// yaml would write 1234567 as 1.234567e+06.
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(v), 10)}, nil
		}
	}
	n := &yaml.Node{}
	return n, n.Encode(v)
}

// rows turns a result into a table: headers (nil for a scalar result) and
// rows of cells.
func rows(v any) (headers []string, cells [][]string) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case object:
		return objectRows([]object{v})
	case []any:
		if len(v) == 0 {
			return nil, nil
		}
		objs := make([]object, 0, len(v))
		lists := make([][]any, 0, len(v))
		for _, x := range v {
			switch x := x.(type) {
			case object:
				objs = append(objs, x)
			case []any:
				lists = append(lists, x)
			}
		}
		switch {
		case len(objs) == len(v):
			return objectRows(objs)
		case len(lists) == len(v):
			return listRows(lists)
		}
		// Scalars, or a mix: one value per line.
		for _, x := range v {
			cells = append(cells, []string{text(x)})
		}
		return []string{"Result"}, cells
	}
	return []string{"Result"}, [][]string{{text(v)}}
}

// objectRows has a column for each key that holds a scalar in some object,
// in the order the keys first appear; nested objects and lists are left out,
// as az does.
func objectRows(objs []object) ([]string, [][]string) {
	var keys []string
	seen := map[string]bool{}
	for _, o := range objs {
		for _, f := range o {
			if !seen[f.key] && isScalar(f.val) {
				seen[f.key] = true
				keys = append(keys, f.key)
			}
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	headers := make([]string, len(keys))
	for i, k := range keys {
		headers[i] = title(k)
	}
	cells := make([][]string, len(objs))
	for r, o := range objs {
		row := make([]string, len(keys))
		for _, f := range o {
			if i := indexOf(keys, f.key); i >= 0 && isScalar(f.val) {
				row[i] = text(f.val)
			}
		}
		cells[r] = row
	}
	return headers, cells
}

func listRows(lists [][]any) ([]string, [][]string) {
	n := 0
	for _, l := range lists {
		n = max(n, len(l))
	}
	headers := make([]string, n)
	for i := range headers {
		headers[i] = "Column" + strconv.Itoa(i+1)
	}
	cells := make([][]string, len(lists))
	for r, l := range lists {
		row := make([]string, n)
		for i, x := range l {
			row[i] = text(x)
		}
		cells[r] = row
	}
	return headers, cells
}

func indexOf(s []string, x string) int {
	for i, y := range s {
		if y == x {
			return i
		}
	}
	return -1
}

// title upper-cases the first letter: loginServer → LoginServer.
func title(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// oneLine keeps a table cell on its line.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

func writeTable(b *bytes.Buffer, v any) {
	headers, cells := rows(v)
	if len(headers) == 0 {
		return
	}
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range cells {
		for i, c := range row {
			row[i] = oneLine.Replace(c)
			widths[i] = max(widths[i], utf8.RuneCountInString(row[i]))
		}
	}
	line := func(row []string) {
		var l strings.Builder
		for i, c := range row {
			l.WriteString(c)
			if i < len(row)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	line(headers)
	dashes := make([]string, len(widths))
	for i, w := range widths {
		dashes[i] = strings.Repeat("-", w)
	}
	line(dashes)
	for _, row := range cells {
		line(row)
	}
}

func writeTSV(b *bytes.Buffer, v any) {
	_, cells := rows(v)
	for _, row := range cells {
		b.WriteString(strings.Join(row, "\t"))
		b.WriteByte('\n')
	}
}
