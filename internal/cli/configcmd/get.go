package configcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// GetOptions are the inputs of `berth config get`.
type GetOptions struct {
	IO     *cmdutil.IOStreams
	Config func() (*userconfig.Config, error)
	Output cmdutil.OutputOptions

	Key string // "" for every setting
}

// NewCmdGet returns `berth config get [KEY]`.
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "get [KEY]",
		Short: "Show settings and where their values come from",
		Long: `Show the effective value of a setting, or of every setting that has one, with
its source: the environment, the config file, or the built-in default.`,
		Example: `  berth config get
  berth config get defaults.registry
  berth config get server --query value -o tsv`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeKeys,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Key = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return getRun(opts)
		},
	}
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func getRun(opts *GetOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	if opts.Key != "" {
		s, err := cfg.Get(opts.Key)
		if err != nil {
			return err
		}
		if s.Source == "" {
			return fmt.Errorf("%s is not set", opts.Key)
		}
		return cmdutil.Print(opts.IO, opts.Output, s)
	}
	settings := []userconfig.Setting{}
	for _, k := range userconfig.KnownKeys() {
		s, err := cfg.Get(k)
		if err != nil {
			return err
		}
		if s.Source != "" {
			settings = append(settings, s)
		}
	}
	return cmdutil.Print(opts.IO, opts.Output, settings)
}
