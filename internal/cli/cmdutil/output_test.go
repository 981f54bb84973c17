package cmdutil

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

type registry struct {
	Name        string            `json:"name"`
	Location    string            `json:"location"`
	LoginServer string            `json:"loginServer"`
	Size        int64             `json:"size"`
	Admin       bool              `json:"adminUserEnabled"`
	Tags        map[string]string `json:"tags,omitempty"`
	Properties  *props            `json:"properties,omitempty"`
}

type props struct {
	Zeta  string `json:"zeta"`
	Alpha string `json:"alpha"`
}

var registries = []registry{
	{Name: "prod", Location: "tokyo", LoginServer: "prod.berth.test", Size: 1234567, Admin: true,
		Tags: map[string]string{"team": "a"}, Properties: &props{Zeta: "z", Alpha: "a"}},
	{Name: "dev", Location: "osaka", LoginServer: "dev.berth.test", Size: 0},
}

func TestPrint(t *testing.T) {
	tests := []struct {
		name   string
		format string
		query  string
		value  any
		want   string
	}{
		{"json keeps struct field order", "json", "", registries[1],
			"{\n  \"name\": \"dev\",\n  \"location\": \"osaka\",\n  \"loginServer\": \"dev.berth.test\",\n  \"size\": 0,\n  \"adminUserEnabled\": false\n}\n"},
		{"json nested order and big integers", "json", "[0].[size, properties]", registries,
			"[\n  1234567,\n  {\n    \"zeta\": \"z\",\n    \"alpha\": \"a\"\n  }\n]\n"},
		{"json does not escape html", "json", "", map[string]string{"a": "<b>&"}, "{\n  \"a\": \"<b>&\"\n}\n"},
		{"json empty list", "json", "", []registry{}, "[]\n"},
		{"default format is json", "", "", []string{"a"}, "[\n  \"a\"\n]\n"},
		{"jsonc off a terminal is plain json", "jsonc", "", map[string]int{"n": 1}, "{\n  \"n\": 1\n}\n"},
		{"none prints nothing", "none", "", registries, ""},
		{"table of objects: scalar columns in field order", "table", "", registries,
			"Name  Location  LoginServer      Size     AdminUserEnabled\n" +
				"----  --------  ---------------  -------  ----------------\n" +
				"prod  tokyo     prod.berth.test  1234567  true\n" +
				"dev   osaka     dev.berth.test   0        false\n"},
		{"table of one object", "table", "[1]", registries,
			"Name  Location  LoginServer     Size  AdminUserEnabled\n" +
				"----  --------  --------------  ----  ----------------\n" +
				"dev   osaka     dev.berth.test  0     false\n"},
		{"table columns in the query's order", "table", "[].{Server:loginServer, N:name}", registries,
			"Server           N\n" +
				"---------------  ----\n" +
				"prod.berth.test  prod\n" +
				"dev.berth.test   dev\n"},
		{"table of a scalar", "table", "[0].name", registries, "Result\n------\nprod\n"},
		{"table of a list of lists", "table", "[].[name, size]", registries,
			"Column1  Column2\n-------  -------\nprod     1234567\ndev      0\n"},
		{"table keeps rows on one line", "table", "", []map[string]string{{"a": "x\ny"}}, "A\n---\nx y\n"},
		{"table of an empty list", "table", "", []registry{}, ""},
		{"columns follow the object's own key order", "table", "", json.RawMessage(`[{"properties":{"name":"n","x":1},"id":"i","name":"top"}]`),
			"Id  Name\n--  ----\ni   top\n"},
		{"objects missing a key leave its cell empty", "table", "", json.RawMessage(`[{"a":1,"b":2,"c":3},{"a":4,"c":null}]`),
			"A  B  C\n-  -  -\n1  2  3\n4\n"},
		{"tsv keeps the columns of a missing key", "tsv", "", json.RawMessage(`[{"a":1,"b":2,"c":3},{"a":4,"c":6}]`),
			"1\t2\t3\n4\t\t6\n"},
		{"tsv of objects: no header", "tsv", "", registries,
			"prod\ttokyo\tprod.berth.test\t1234567\ttrue\ndev\tosaka\tdev.berth.test\t0\tfalse\n"},
		{"tsv of a scalar prints it raw", "tsv", "[0].loginServer", registries, "prod.berth.test\n"},
		{"tsv of a number", "tsv", "[0].size", registries, "1234567\n"},
		{"tsv of a list of scalars: one per line", "tsv", "[].name", registries, "prod\ndev\n"},
		{"tsv of a missing key prints nothing", "tsv", "[0].nope", registries, ""},
		{"json of a missing key is null", "json", "[0].nope", registries, "null\n"},
		{"tsv of a filter", "tsv", "[?location=='osaka'].name", registries, "dev\n"},
		{"tsv of a function", "tsv", "length(@)", registries, "2\n"},
		{"tsv leaves nested values out", "tsv", "[0]", registries, "prod\ttokyo\tprod.berth.test\t1234567\ttrue\n"},
		{"yaml keeps order", "yaml", "[0].{name:name, size:size, properties:properties, admin:adminUserEnabled}", registries,
			"name: prod\nsize: 1234567\nproperties:\n  zeta: z\n  alpha: a\nadmin: true\n"},
		{"yaml quotes strings that look like other types", "yaml", "", []string{"true", "1.5", "null"},
			"- \"true\"\n- \"1.5\"\n- \"null\"\n"},
		{"yaml of a list of objects", "yaml", "[].{n:name}", registries, "- n: prod\n- n: dev\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := Test()
			err := Print(ios, OutputOptions{Format: tt.format, Query: tt.query}, tt.value)
			if err != nil {
				t.Fatalf("Print: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPrintJSONCColorsOnlyOnATerminal(t *testing.T) {
	for _, tc := range []struct {
		terminal, noColor, colored bool
	}{{true, false, true}, {false, false, false}, {true, true, false}} {
		ios, _, out, _ := Test()
		ios.OutIsTerminal, ios.NoColor = tc.terminal, tc.noColor
		if err := Print(ios, OutputOptions{Format: FormatJSONC}, map[string]any{"k": "v", "n": 1, "b": true, "z": nil}); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if strings.Contains(got, "\x1b[") != tc.colored {
			t.Errorf("terminal=%v NO_COLOR=%v: colored=%v, want %v:\n%q", tc.terminal, tc.noColor, !tc.colored, tc.colored, got)
		}
		if tc.colored && !strings.Contains(got, colorKey+`"k"`+colorReset+": "+colorString+`"v"`+colorReset) {
			t.Errorf("key and string not colored as expected: %q", got)
		}
	}
}

func TestPrintErrors(t *testing.T) {
	tests := []struct {
		name, format, query, want string
	}{
		{"invalid JMESPath", "json", "[?name=='x'", `invalid JMESPath query "[?name=='x'"`},
		{"query fails at run time", "json", "length(`1`)", `running --query "length(`},
		{"unknown format", "xml", "", `unknown output format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := Test()
			err := Print(ios, OutputOptions{Format: tt.format, Query: tt.query}, registries)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q on error", out.String())
			}
		})
	}
}

// The flags reject bad values while parsing, before a command's run
// function could send a request.
func TestOutputFlags(t *testing.T) {
	tests := []struct {
		args       []string
		wantErr    string
		wantFormat string
		wantQuery  string
	}{
		{args: nil, wantFormat: "json"},
		{args: []string{"-o", "table", "--query", "[].name"}, wantFormat: "table", wantQuery: "[].name"},
		{args: []string{"--output=tsv"}, wantFormat: "tsv"},
		{args: []string{"-o", "xml"}, wantErr: `invalid argument "xml" for "-o, --output" flag: must be one of json, jsonc, table, tsv, yaml, none`},
		{args: []string{"--query", "a.["}, wantErr: `invalid argument "a.[" for "--query" flag: invalid JMESPath query "a.["`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var o OutputOptions
			ran := false
			cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { ran = true; return nil }}
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			AddOutputFlags(cmd, &o)
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ran {
					t.Fatalf("error %v (ran=%v), want one containing %q", err, ran, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Format != tt.wantFormat || o.Query != tt.wantQuery {
				t.Errorf("got %+v, want format %q query %q", o, tt.wantFormat, tt.wantQuery)
			}
		})
	}
}
