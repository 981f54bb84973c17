package cmdutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	jmespath "github.com/jmespath-community/go-jmespath"
	"github.com/spf13/cobra"
)

// Output formats of -o/--output.
const (
	FormatJSON  = "json"  // indented JSON
	FormatJSONC = "jsonc" // indented JSON, colored when Out is a terminal
	FormatTable = "table" // aligned columns with a header, scalars only
	FormatTSV   = "tsv"   // tab-separated, no header, scalars only
	FormatYAML  = "yaml"
	FormatNone  = "none" // nothing
)

// Formats lists the values -o/--output accepts.
var Formats = []string{FormatJSON, FormatJSONC, FormatTable, FormatTSV, FormatYAML, FormatNone}

// OutputOptions are the values of -o/--output and --query. Embed them in a
// command's options and register them with AddOutputFlags.
type OutputOptions struct {
	Format string // one of Formats; "" is json
	Query  string // JMESPath applied to the result before it is rendered
}

// AddOutputFlags adds -o/--output (default json, or o.Format when already
// set) and --query to cmd. Both are checked while the flags are parsed, so
// a bad value fails before any request is sent.
func AddOutputFlags(cmd *cobra.Command, o *OutputOptions) {
	if o.Format == "" {
		o.Format = FormatJSON
	}
	cmd.Flags().VarP((*formatValue)(&o.Format), "output", "o", "output format: "+strings.Join(Formats, ", "))
	cmd.Flags().Var((*queryValue)(&o.Query), "query", "JMESPath query applied to the result, e.g. \"[].name\" (see https://jmespath.org)")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return Formats, cobra.ShellCompDirectiveNoFileComp
	})
}

type formatValue string

func (f *formatValue) String() string { return string(*f) }
func (f *formatValue) Type() string   { return "format" }
func (f *formatValue) Set(s string) error {
	if !slices.Contains(Formats, s) {
		return fmt.Errorf("must be one of %s", strings.Join(Formats, ", "))
	}
	*f = formatValue(s)
	return nil
}

type queryValue string

func (q *queryValue) String() string { return string(*q) }
func (q *queryValue) Type() string   { return "jmespath" }
func (q *queryValue) Set(s string) error {
	if _, err := compileQuery(s); err != nil {
		return err
	}
	*q = queryValue(s)
	return nil
}

// tokenNames turns the parser's token names into what the user typed.
var tokenNames = strings.NewReplacer(
	"TOKEOF", "the end of the query", "TOKUnquotedIdentifier", "a name", "TOKQuotedIdentifier", "a quoted name",
	"TOKLbracket", "'['", "TOKRbracket", "']'", "TOKLbrace", "'{'", "TOKRbrace", "'}'",
	"TOKLparen", "'('", "TOKRparen", "')'", "TOKComma", "','", "TOKColon", "':'", "TOKDot", "'.'",
	"TOKPipe", "'|'", "TOKFilter", "'[?'", "TOKStar", "'*'", "Expected", "expected", "Unexpected", "unexpected",
	"Incomplete", "incomplete",
)

// compileQuery parses a JMESPath expression, giving an error that says
// where it went wrong.
func compileQuery(expr string) (jmespath.JMESPath, error) {
	q, err := jmespath.Compile(expr)
	if err != nil {
		if se, ok := err.(jmespath.SyntaxError); ok {
			msg := tokenNames.Replace(strings.TrimPrefix(se.Error(), "SyntaxError: "))
			return nil, fmt.Errorf("invalid JMESPath query %q: %s at column %d", expr, msg, se.Offset+1)
		}
		return nil, fmt.Errorf("invalid JMESPath query %q: %w", expr, err)
	}
	return q, nil
}

// Print renders value on io.Out as o asks. value is anything encoding/json
// can marshal (a struct, a slice of structs, a map); the output keeps the
// order of its JSON keys (struct field order), and --query runs on its JSON
// form, so `--query "[].name"` means the JSON field names.
//
// Rendering: json and yaml show the whole result; table shows a list of
// objects as one row per object with a column per scalar key (headers in
// Title case), an object as one row, scalars under a "Result" header; tsv
// is table without header or alignment, and a scalar prints raw, so that
// `--query id -o tsv` prints the id alone.
func Print(io *IOStreams, o OutputOptions, value any) error {
	format := o.Format
	if format == "" {
		format = FormatJSON
	}
	if format == FormatNone {
		return nil
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("encoding the result: %w", err)
	}
	keys := newKeyOrder()
	data, err := decodeOrdered(raw, keys)
	if err != nil {
		return fmt.Errorf("decoding the result: %w", err)
	}
	if o.Query != "" {
		q, err := compileQuery(o.Query)
		if err != nil {
			return err
		}
		keys.learnQuery(o.Query)
		if data, err = q.Search(data); err != nil {
			return fmt.Errorf("running --query %q: %w", o.Query, err)
		}
	}
	v := keys.apply(data)
	var buf bytes.Buffer
	switch format {
	case FormatJSON:
		writeJSON(&buf, v, false)
	case FormatJSONC:
		writeJSON(&buf, v, io.OutIsTerminal && !io.NoColor)
	case FormatYAML:
		if err := writeYAML(&buf, v); err != nil {
			return err
		}
	case FormatTable:
		writeTable(&buf, v)
	case FormatTSV:
		writeTSV(&buf, v)
	default:
		return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	_, err = io.Out.Write(buf.Bytes())
	return err
}
