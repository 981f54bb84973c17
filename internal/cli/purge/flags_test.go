package purge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/purge"
)

func TestFlags(t *testing.T) {
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "")
	ios, _, out, _ := cmdutil.Test()
	f := cmdutil.NewFactory(ios, t.TempDir(), "test")
	var got *purge.Options
	cmd := purge.NewCmdPurge(f, func(_ context.Context, o *purge.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"-r", "myregistry", "--filter", "a:.*", "--filter", "b/c:v1", "--ago", "2d3h6m",
		"--keep", "3", "--untagged", "--include-locked", "--dry-run", "--concurrency", "7", "--timeout", "5m"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Registry != "myregistry" || strings.Join(got.Filters, " ") != "a:.* b/c:v1" || got.Ago != "2d3h6m" || got.Keep != 3 ||
		!got.Untagged || got.UntaggedOnly || !got.IncludeLocked || !got.DryRun || got.Concurrency != 7 || got.Timeout.Minutes() != 5 {
		t.Errorf("options %+v", got)
	}

	cmd = purge.NewCmdPurge(f, func(context.Context, *purge.Options) error { return nil })
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs([]string{"-r", "myregistry", "--filter", "a:.*"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "ago") {
		t.Errorf("no --ago: %v", err)
	}

	cmd = purge.NewCmdPurge(f, nil)
	cmd.SetOut(out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ANCHORED") {
		t.Errorf("--help does not say the regexes are anchored:\n%s", out)
	}
}
