package configcmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// SetOptions are the inputs of `berth config set`.
type SetOptions struct {
	Config func() (*userconfig.Config, error)
	Pairs  [][2]string // key, value
}

// NewCmdSet returns `berth config set KEY=VALUE...`.
func NewCmdSet(f *cmdutil.Factory, runF func(*SetOptions) error) *cobra.Command {
	opts := &SetOptions{Config: f.Config}
	return &cobra.Command{
		Use:   "set KEY=VALUE...",
		Short: "Set one or more settings",
		Long:  "Set settings in config.yaml. All pairs are checked before any is written.\n\nKnown keys:\n\n" + keyHelp(),
		Example: `  berth config set defaults.registry=myregistry
  berth config set server=https://berth.example.com defaults.registry=prod`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Pairs = nil
			for _, a := range args {
				k, v, ok := strings.Cut(a, "=")
				if !ok || k == "" {
					return fmt.Errorf("%q is not KEY=VALUE", a)
				}
				opts.Pairs = append(opts.Pairs, [2]string{k, v})
			}
			if runF != nil {
				return runF(opts)
			}
			return setRun(opts)
		},
	}
}

func setRun(opts *SetOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	for _, p := range opts.Pairs {
		if err := cfg.Set(p[0], p[1]); err != nil {
			return err
		}
	}
	return cfg.Save()
}
