package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// UpdateOptions are the inputs of `berth resource update`.
type UpdateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	ID   string
	Sets []Set
}

// Set is one --set PATH=VALUE.
type Set struct {
	Path  []string // "properties", then the keys below it
	Value any      // the value parsed as JSON, or the text when it is not JSON
}

// NewCmdUpdate returns `berth resource update`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, Client: f.Client}
	var t Target
	var sets []string
	cmd := &cobra.Command{
		Use:   "update (--resource-type TYPE --name NAME | --ids ID) --set properties.PATH=VALUE...",
		Short: "Change properties of a resource",
		Long: `Change properties of a resource, as "az resource update" does. Each --set names
a property by its dot path below properties and gives its value, read as
JSON when it is JSON (true, 3, "text", {"a": 1}, [..]) and as text
otherwise. Only the properties set are sent; the server checks them. Prints
the resource as the server answers.`,
		Example: `  # Let tasks with a system-assigned identity through the network rules
  berth resource update --resource-type registries --name blogbuildtest \
    --set properties.networkRuleBypassAllowedForTasks=true

  berth resource update --ids /registries/blogbuildtest \
    --set properties.networkRuleSet.defaultAction=Deny --set properties.adminUserEnabled=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.ID, err = t.resolve(); err != nil {
				return err
			}
			if len(sets) == 0 {
				return errors.New("nothing to update: give --set properties.PATH=VALUE")
			}
			opts.Sets = opts.Sets[:0]
			for _, s := range sets {
				set, err := parseSet(s)
				if err != nil {
					return err
				}
				opts.Sets = append(opts.Sets, set)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	targetFlags(cmd, &t)
	cmd.Flags().StringArrayVar(&sets, "set", nil, "a property to change, as properties.PATH=VALUE (repeatable)")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

// parseSet parses properties.a.b=VALUE.
func parseSet(s string) (Set, error) {
	path, value, ok := strings.Cut(s, "=")
	if !ok {
		return Set{}, fmt.Errorf("invalid --set %q: want properties.PATH=VALUE", s)
	}
	keys := strings.Split(path, ".")
	if len(keys) < 2 || keys[0] != "properties" {
		return Set{}, fmt.Errorf("invalid --set %q: only properties can be set; want properties.PATH=VALUE", s)
	}
	for _, k := range keys {
		if k == "" {
			return Set{}, fmt.Errorf("invalid --set %q: the path has an empty key", s)
		}
	}
	return Set{Path: keys, Value: parseValue(value)}, nil
}

// parseValue reads s as JSON when it is one JSON value, else as text.
// Numbers keep their digits.
func parseValue(s string) any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return s
	}
	if _, err := d.Token(); err != io.EOF {
		return s // "1 2", "true x": more than one value
	}
	return v
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	raw, err := c.GetByID(ctx, opts.ID)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("decoding %s: %w", opts.ID, err)
	}
	patch, err := apply(doc, opts.Sets)
	if err != nil {
		return err
	}
	out, err := c.PatchByID(ctx, opts.ID, patch)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, out)
}

// apply makes each set on doc, the resource as it is, so that a path
// through a missing object or a value that is not an object is an error
// here; and returns what to PATCH: only the properties set.
func apply(doc map[string]any, sets []Set) (map[string]any, error) {
	patch := map[string]any{}
	for _, s := range sets {
		node, pnode := doc, patch
		last := len(s.Path) - 1
		for i, k := range s.Path[:last] {
			at := strings.Join(s.Path[:i+1], ".")
			child, ok := node[k].(map[string]any)
			if !ok {
				if _, exists := node[k]; exists {
					return nil, fmt.Errorf("cannot set %s: %s is not an object", strings.Join(s.Path, "."), at)
				}
				return nil, fmt.Errorf("cannot set %s: the resource has no %s", strings.Join(s.Path, "."), at)
			}
			pchild, ok := pnode[k].(map[string]any)
			if !ok {
				pchild = map[string]any{}
				pnode[k] = pchild
			}
			node, pnode = child, pchild
		}
		node[s.Path[last]] = s.Value
		pnode[s.Path[last]] = s.Value
	}
	return patch, nil
}
