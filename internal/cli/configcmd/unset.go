package configcmd

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// UnsetOptions are the inputs of `berth config unset`.
type UnsetOptions struct {
	Config func() (*userconfig.Config, error)
	Keys   []string
}

// NewCmdUnset returns `berth config unset KEY...`.
func NewCmdUnset(f *cmdutil.Factory, runF func(*UnsetOptions) error) *cobra.Command {
	opts := &UnsetOptions{Config: f.Config}
	return &cobra.Command{
		Use:   "unset KEY...",
		Short: "Remove settings from config.yaml",
		Long:  "Remove settings from config.yaml; a key that is not set is no error.",
		Example: `  berth config unset defaults.registry
  berth config unset server defaults.registry`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeKeys,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Keys = args
			if runF != nil {
				return runF(opts)
			}
			return unsetRun(opts)
		},
	}
}

func unsetRun(opts *UnsetOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	for _, k := range opts.Keys {
		if err := cfg.Unset(k); err != nil {
			return err
		}
	}
	return cfg.Save()
}
