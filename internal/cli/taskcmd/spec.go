package taskcmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/buildcmd"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// systemIdentity names a task's system-assigned identity, as az does.
const systemIdentity = "[system]"

var timerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$`)

// specFlags are the flags that describe a task, shared by create (where
// some are required) and update (where only those given change).
type specFlags struct {
	Context          string
	File             string // a local task file, or with -t the Dockerfile in the context
	Cmd              string
	Images           []string
	ValuesFile       string
	Set              []string
	SetSecret        []string
	Schedules        []string // [name:]cron
	AuthMode         string
	BaseImageTrigger *bool
	AgentPool        string
	Platform         string
	Timeout          int
	Status           string

	// identities collects --assign-identity and the words after it.
	identities *cmdutil.ArgFlags
}

func (s *specFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&s.Context, "context", "c", "", "the context: a directory or .tar.gz (uploaded), /dev/null, a git URL (https://…/repo.git#ref:folder) or oci://<loginServer>/<repo>:<tag>")
	fl.StringVarP(&s.File, "file", "f", "", "a local task file (YAML; - for standard input); with -t, the Dockerfile's path in the context (default Dockerfile)")
	fl.StringVar(&s.Cmd, "cmd", "", `a command to run: an image and its arguments, such as "berth purge --filter 'app:.*' --ago 7d"`)
	fl.StringArrayVarP(&s.Images, "image", "t", nil, "build the context's Dockerfile and push it as repository[:tag]; repeat for more tags")
	fl.StringVar(&s.ValuesFile, "values", "", "a YAML file of values, name: value, for {{.Values.name}}")
	fl.StringArrayVar(&s.Set, "set", nil, "a value NAME=VALUE for {{.Values.NAME}}, over --values; may be repeated")
	fl.StringArrayVar(&s.SetSecret, "set-secret", nil, "a value NAME=VALUE that is never shown; may be repeated")
	fl.StringArrayVar(&s.Schedules, "schedule", nil, `a timer, "[name:]cron" with five cron fields, in UTC; may be repeated`)
	cmdutil.EnumVar(cmd, &s.AuthMode, "auth-mode", "", "", []string{"Default", "None"}, "Default: runs get a token for the registry; None: only the task's credentials")
	cmdutil.BoolVar(cmd, &s.BaseImageTrigger, "base-image-trigger-enabled", "run the task when a base image it was built on is pushed anew (default true)")
	fl.StringVar(&s.AgentPool, "agent-pool", "", "the agent pool to run on (default the registry's location's)")
	fl.StringVar(&s.Platform, "platform", "", "OS/ARCH[/VARIANT] (default linux/amd64)")
	fl.IntVar(&s.Timeout, "timeout", 0, fmt.Sprintf("seconds a run may take, 1 to %d (default 3600)", buildcmd.MaxTimeout))
	cmdutil.EnumVar(cmd, &s.Status, "status", "", "", []string{"Enabled", "Disabled"}, "a Disabled task does not run")
	s.identities = cmdutil.NewArgFlags(cmd)
	s.identities.Var("assign-identity", "", "IDENTITY...", "identities to give the task: [system] (the default when the flag has no value) and user-assigned identities")
	fl.Lookup("assign-identity").NoOptDefVal = systemIdentity
}

// spec is what the flags say, checked; the context is uploaded later.
type spec struct {
	step             client.TaskStep // without its context
	stepGiven        bool            // -f, --cmd or -t
	secrets          map[string]string
	timers           []client.TimerTrigger
	identities       []string
	hasContext       bool
	remoteContext    bool
	uploadDockerfile string // kept in the upload
}

// parse checks the flags. changed says which were given; dockerTask says,
// for update, whether the task builds a Dockerfile, so that -f alone
// names it (nil: not known, and -f alone is a task file).
func (s *specFlags) parse(cmd *cobra.Command, args []string, stdin io.Reader, dockerTask func() (bool, error)) (*spec, error) {
	changed := cmd.Flags().Changed
	out := &spec{}
	uses, err := s.identities.Resolve(args)
	if err != nil {
		return nil, err
	}
	for _, u := range uses {
		out.identities = appendIdentities(out.identities, u, true)
	}
	if changed("timeout") {
		if err := buildcmd.CheckTimeout(s.Timeout); err != nil {
			return nil, err
		}
	}
	if err := buildcmd.CheckPlatform(s.Platform); err != nil {
		return nil, err
	}
	if out.step.Values, out.secrets, err = Values(s.ValuesFile, s.Set, s.SetSecret); err != nil {
		return nil, err
	}
	if changed("schedule") {
		if out.timers, err = parseSchedules(s.Schedules); err != nil {
			return nil, err
		}
	}
	if changed("context") {
		out.hasContext = true
		if out.remoteContext, err = ContextKind(s.Context); err != nil {
			return nil, err
		}
	}

	file, cmdGiven, images := changed("file"), changed("cmd"), changed("image")
	switch {
	case cmdGiven && (file || images):
		return nil, errors.New("give one of -f/--file (a task file), --cmd (a command) or -t/--image (a Dockerfile build), not several")
	case cmdGiven && strings.TrimSpace(s.Cmd) == "":
		return nil, errors.New("--cmd is empty: give an image and its arguments")
	case cmdGiven:
		out.step.Type, out.step.Cmd, out.stepGiven = "Cmd", s.Cmd, true
	case images:
		if err := s.docker(out, true); err != nil {
			return nil, err
		}
	case file:
		isDocker := false
		if dockerTask != nil {
			if isDocker, err = dockerTask(); err != nil {
				return nil, err
			}
		}
		if isDocker {
			if err := s.docker(out, false); err != nil {
				return nil, err
			}
			break
		}
		text, err := ReadTaskFile(s.File, stdin)
		if err != nil {
			return nil, err
		}
		out.step.Type, out.step.TaskFile, out.stepGiven = "FileTask", text, true
		if s.File != "-" {
			out.step.TaskFilePath = s.File
		}
	}
	return out, nil
}

// docker fills a Docker step from -t (when withImages) and -f.
func (s *specFlags) docker(out *spec, withImages bool) error {
	dockerfile := s.File
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if dockerfile == "-" || !filepath.IsLocal(filepath.FromSlash(dockerfile)) {
		return fmt.Errorf("-f %s: with -t, -f is the Dockerfile's path inside the context, relative to its root", s.File)
	}
	for _, img := range s.Images {
		if img == "" || strings.Contains(img, "://") {
			return fmt.Errorf("-t %q: give repository[:tag], relative to the registry", img)
		}
	}
	out.step.Type = "Docker"
	if withImages {
		out.step.ImageNames = slices.Clone(s.Images)
	}
	out.step.DockerFilePath = filepath.ToSlash(filepath.Clean(dockerfile))
	out.uploadDockerfile = out.step.DockerFilePath
	out.stepGiven = true
	return nil
}

// appendIdentities adds the identities of one use of an identity flag.
// For a flag whose bare form means [system] (bareSystem), pflag gives the
// bare flag [system] as its value and the words after it as arguments:
// then the words, when there are some, name the identities instead. (So
// --assign-identity=[system] x means x alone; --assign-identity [system] x
// means both.)
func appendIdentities(list []string, u cmdutil.ArgFlagUse, bareSystem bool) []string {
	ids := u.Values()
	if bareSystem && u.Value == systemIdentity && len(u.Args) > 0 {
		ids = u.Args
	}
	for _, id := range ids {
		if !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}

// parseSchedules reads --schedule "[name:]cron" flags. Unnamed timers get
// t1, t2, … (the first names not taken).
func parseSchedules(list []string) ([]client.TimerTrigger, error) {
	out := []client.TimerTrigger{}
	if len(list) == 1 && list[0] == "none" {
		return out, nil // no timer: with update, removes them all
	}
	taken := map[string]bool{}
	var unnamed []int
	for _, arg := range list {
		name, cron := "", arg
		if n, c, ok := strings.Cut(arg, ":"); ok {
			name, cron = strings.TrimSpace(n), strings.TrimSpace(c)
			if !timerName.MatchString(name) {
				return nil, fmt.Errorf("--schedule %q: the timer's name %q must be letters, digits, '_' and '-'", arg, name)
			}
			if taken[name] {
				return nil, fmt.Errorf("--schedule %q: a timer named %s is given twice", arg, name)
			}
			taken[name] = true
		}
		if n := len(strings.Fields(cron)); n != 5 && !(n == 1 && strings.HasPrefix(cron, "@")) {
			return nil, fmt.Errorf("--schedule %q: give five cron fields (minute hour day-of-month month day-of-week, UTC), such as \"0 1 * * Sun\"; got %d", arg, n)
		}
		if name == "" {
			unnamed = append(unnamed, len(out))
		}
		out = append(out, client.TimerTrigger{Name: name, Schedule: strings.Join(strings.Fields(cron), " "), Enabled: true})
	}
	next := 1
	for _, i := range unnamed {
		for taken["t"+strconv.Itoa(next)] {
			next++
		}
		out[i].Name = "t" + strconv.Itoa(next)
		taken[out[i].Name] = true
	}
	return out, nil
}
