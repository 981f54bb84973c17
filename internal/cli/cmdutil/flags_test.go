package cmdutil

import (
	"io"
	"reflect"
	"testing"

	"github.com/spf13/cobra"
)

func TestArgFlags(t *testing.T) {
	type use struct {
		Flag, Value string
		Args        []string
	}
	tests := []struct {
		args    []string
		want    []use
		wantErr string
	}{
		{args: []string{"--a", "x", "1", "2"}, want: []use{{"a", "x", []string{"1", "2"}}}},
		{args: []string{"--a", "x", "1", "-s", "v", "2", "--b=y", "3", "--a", "z"},
			want: []use{{"a", "x", []string{"1", "2"}}, {"b", "y", []string{"3"}}, {"a", "z", []string{}}}},
		{args: []string{"-s", "v", "--a", "x", "--", "-1"}, want: []use{{"a", "x", []string{"-1"}}}},
		{args: []string{}, want: []use{}},
		{args: []string{"1", "--a", "x"}, wantErr: `unexpected argument "1": arguments must follow the flag they belong to`},
		{args: []string{"1"}, wantErr: `unexpected argument "1"`},
	}
	for _, tt := range tests {
		var got []use
		var s string
		cmd := &cobra.Command{Use: "x", Args: cobra.ArbitraryArgs}
		af := NewArgFlags(cmd)
		af.Var("a", "", "V...", "")
		af.Var("b", "", "V...", "")
		cmd.Flags().StringVarP(&s, "s", "s", "", "")
		cmd.RunE = func(_ *cobra.Command, args []string) error {
			uses, err := af.Resolve(args)
			got = []use{}
			for _, u := range uses {
				got = append(got, use{u.Flag, u.Value, u.Args})
			}
			return err
		}
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

func TestConfirm(t *testing.T) {
	ios, in, _, errOut := Test()
	if err := Confirm(ios, true, "x"); err != nil {
		t.Errorf("--yes: %v", err)
	}
	in.WriteString("y\n")
	if err := Confirm(ios, false, "drop it"); err == nil || err.Error() != "refusing to drop it without confirmation: give --yes (standard input is not a terminal to ask on)" {
		t.Errorf("off a terminal: %v", err)
	}
	ios.InIsTerminal = true
	ios.lines = nil
	in.Reset()
	in.WriteString("yes\nno\n")
	if err := Confirm(ios, false, "drop it"); err != nil {
		t.Errorf("yes: %v", err)
	}
	if err := Confirm(ios, false, "drop it"); err != ErrCanceled {
		t.Errorf("no: %v", err)
	}
	if errOut.String() != "Are you sure you want to drop it? (y/n): Are you sure you want to drop it? (y/n): " {
		t.Errorf("prompts %q", errOut)
	}
}

func TestBoolAndEnumFlags(t *testing.T) {
	var b *bool
	var e string
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	BoolVar(cmd, &b, "on", "")
	EnumVar(cmd, &e, "color", "", "red", []string{"red", "blue"}, "")
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if cmd.SetArgs(nil); cmd.Execute() != nil || b != nil || e != "red" {
		t.Fatalf("defaults: %v %q", b, e)
	}
	if cmd.SetArgs([]string{"--on", "false", "--color", "blue"}); cmd.Execute() != nil || b == nil || *b || e != "blue" {
		t.Fatalf("set: %v %q", b, e)
	}
	for _, args := range [][]string{{"--on", "yes"}, {"--on"}, {"--color", "green"}} {
		if cmd.SetArgs(args); cmd.Execute() == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
