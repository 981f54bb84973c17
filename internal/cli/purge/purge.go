// Package purge holds `berth purge`: deleting old tags, and manifests left
// without tags, from a registry's repositories. It works over the data
// plane (the /acr/v1 metadata API and /v2, with a registry token obtained
// as `berth registry login` does), so the registry's network rules, RBAC
// and locks judge it as they judge docker. What to delete is decided by
// pkg/purge from the listings alone, so that a dry run prints exactly what
// a real run on the same listings deletes.
package purge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
	plan "github.com/berth-project/berth/pkg/purge"
)

// Options are the inputs of `berth purge`.
type Options struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Now    func() time.Time
	// Metadata, when set, gives the registry's metadata API and login
	// server directly, instead of a lookup of Registry through the
	// management plane with the user's login: a built-in `berth purge` in
	// a run reaches its registry this way, with the run's credential and
	// from the agent's egress address. Registry may then be empty.
	Metadata func(ctx context.Context) (*client.Metadata, string, error)

	Registry      string
	Filters       []string
	Ago           string
	Keep          int
	Untagged      bool
	UntaggedOnly  bool
	IncludeLocked bool
	DryRun        bool
	Concurrency   int
	Timeout       time.Duration
}

// NewCmdPurge returns `berth purge`.
func NewCmdPurge(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "purge [-r REGISTRY] --filter 'repoRegex:tagRegex' [--filter …] --ago DURATION [flags]",
		Short: "Delete old tags, and manifests left without tags, from a registry",
		Long: `Delete the tags that a --filter selects and that were last updated longer
ago than --ago, and with --untagged the manifests then left without a tag.

A filter is 'repoRegex:tagRegex' (RE2 syntax, split at the first colon).
Both regexes are ANCHORED: they must match the whole repository name and
the whole tag. 'app:v1' selects the tag v1 only, not v10 or v1-rc; write
'app:v1.*' for those. (The managed registry's purge tool does not anchor
its tag regex, which surprises its users; berth does.) A tag is selected
when it matches any filter whose repository regex matches its repository.

--ago is a number of days followed by a Go duration: 2d3h6m, 0d, 1.5h, 30d.
0d selects everything last updated before now.

--keep N spares the N most recently updated candidates of each repository
(candidates: selected, old enough and not locked). --untagged then also
deletes the manifests left without any tag (listed or hidden) and last
updated longer ago than --ago; --untagged-only deletes only those, and no
tag (the tag regex is then ignored).

Never deleted: a manifest that an index which stays refers to (the images
of a multi-arch image), a manifest whose subject stays (signatures, SBOMs),
the subject of a referrer that must stay (locked, tagged or hidden), and a
locked tag or manifest (deleteEnabled or writeEnabled false). When a
subject goes, its referrers go with it, however recent: the registry
deletes a manifest's referrers with it, and purge lists them. --include-locked unlocks locked tags and manifests and deletes them.
Repositories that are locked themselves are skipped.

--dry-run prints "Would delete: <loginServer>/<repo>:<tag>" and
"Would delete: <loginServer>/<repo>@<digest>" lines: exactly what a real run
on the same registry contents deletes. A real run prints what it deleted
and, per repository, "Number of deleted tags: N" and "Number of deleted
manifests: N".

purge uses the registry's data plane with your "berth login" identity: the
registry's network rules apply, and so do your roles: listing needs pull
rights and deleting needs AcrDelete, Contributor or Owner (AcrDelete with
AcrPull will do); --include-locked needs push rights to lift locks. Blobs
no manifest uses any more are removed later by garbage collection.`,
		Example: `  berth purge -r blogbuildtest --filter 'hello-world:.*' --untagged --ago 1d --dry-run
  berth purge -r blogbuildtest --filter 'samples/.*:v[0-9]+' --ago 30d --keep 5
  berth purge -r blogbuildtest --filter 'app:.*' --untagged-only --ago 0d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, err := f.RegistryNameFlag("-r/--registry", opts.Registry)
			if err != nil {
				return err
			}
			opts.Registry = name
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Registry, "registry", "r", "", "registry name (default: defaults.registry)")
	fl.StringArrayVar(&opts.Filters, "filter", nil, "'repoRegex:tagRegex', both anchored (repeatable)")
	fl.StringVar(&opts.Ago, "ago", "", "delete what was last updated longer ago than this: days then a Go duration (2d3h6m, 0d, 1.5h)")
	fl.IntVar(&opts.Keep, "keep", 0, "spare the N most recently updated candidate tags of each repository")
	fl.BoolVar(&opts.Untagged, "untagged", false, "also delete manifests left without tags")
	fl.BoolVar(&opts.UntaggedOnly, "untagged-only", false, "delete only manifests without tags, no tag")
	fl.BoolVar(&opts.IncludeLocked, "include-locked", false, "unlock and delete locked tags and manifests too")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print what would be deleted and delete nothing")
	fl.IntVar(&opts.Concurrency, "concurrency", 5, "deletes and reads in flight at once (1 to 64)")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "give up after this long (0: no limit)")
	_ = cmd.MarkFlagRequired("ago")
	return cmd
}

// parse checks every flag before anything is read or deleted.
func (o *Options) parse() (plan.Options, error) {
	var po plan.Options
	for _, s := range o.Filters {
		f, err := plan.ParseFilter(s)
		if err != nil {
			return po, err
		}
		po.Filters = append(po.Filters, f)
	}
	ago, err := plan.ParseAgo(o.Ago)
	if err != nil {
		return po, err
	}
	if o.Concurrency < 1 || o.Concurrency > 64 {
		return po, fmt.Errorf("--concurrency must be 1 to 64, not %d", o.Concurrency)
	}
	if o.Timeout < 0 {
		return po, errors.New("--timeout must not be negative")
	}
	po.Before = o.Now().Add(-ago)
	po.Keep, po.Untagged, po.UntaggedOnly, po.IncludeLocked = o.Keep, o.Untagged, o.UntaggedOnly, o.IncludeLocked
	return po, po.Validate()
}

// Run purges as opts say.
func Run(ctx context.Context, opts *Options) error {
	po, err := opts.parse()
	if err != nil {
		return err
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	var m *client.Metadata
	var loginServer string
	if opts.Metadata != nil {
		m, loginServer, err = opts.Metadata(ctx)
	} else {
		var c *client.Client
		if c, err = opts.Client(); err == nil {
			m, loginServer, err = c.RegistryMetadata(ctx, opts.Registry)
		}
	}
	if err != nil {
		return err
	}
	repos, err := m.Catalog(ctx)
	if err != nil {
		return err
	}
	sort.Strings(repos)
	p := &purger{opts: opts, loginServer: loginServer, po: po, m: m}
	var errs []error
	for _, repo := range repos {
		if !po.MatchesRepo(repo) {
			continue
		}
		if err := p.repository(ctx, repo); err != nil {
			errs = append(errs, fmt.Errorf("repository %s: %w", repo, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

type purger struct {
	opts        *Options
	loginServer string
	po          plan.Options
	m           *client.Metadata
}

// repository plans and carries out the purge of one repository.
func (p *purger) repository(ctx context.Context, repo string) error {
	info, err := p.m.Repository(ctx, repo)
	if err != nil {
		return err
	}
	if a := info.ChangeableAttributes; !a.DeleteEnabled || !a.WriteEnabled {
		fmt.Fprintf(p.opts.IO.ErrOut, "Skipping locked repository %s/%s\n", p.loginServer, repo)
		return nil
	}
	tagInfos, err := p.m.Tags(ctx, repo, client.ListQuery{OrderBy: "timedesc"})
	if err != nil {
		return err
	}
	tags := make([]plan.Tag, 0, len(tagInfos))
	for _, t := range tagInfos {
		u, err := time.Parse(time.RFC3339Nano, t.LastUpdateTime)
		if err != nil {
			return fmt.Errorf("tag %s: lastUpdateTime %q: %w", t.Name, t.LastUpdateTime, err)
		}
		a := t.ChangeableAttributes
		tags = append(tags, plan.Tag{Name: t.Name, Digest: t.Digest, Updated: u, Locked: !a.DeleteEnabled || !a.WriteEnabled})
	}
	delTags := plan.Tags(repo, tags, p.po)

	var delManifests []plan.Manifest
	if p.po.Untagged || p.po.UntaggedOnly {
		infos, err := p.m.Manifests(ctx, repo, client.ListQuery{})
		if err != nil {
			return err
		}
		ms := make([]plan.Manifest, 0, len(infos))
		for _, mi := range infos {
			u, err := time.Parse(time.RFC3339Nano, mi.LastUpdateTime)
			if err != nil {
				return fmt.Errorf("manifest %s: lastUpdateTime %q: %w", mi.Digest, mi.LastUpdateTime, err)
			}
			a := mi.ChangeableAttributes
			pm := plan.Manifest{Digest: mi.Digest, Updated: u, Tags: mi.Tags, Subject: mi.Subject, Locked: !a.DeleteEnabled || !a.WriteEnabled}
			for _, r := range mi.References {
				pm.References = append(pm.References, r.Digest)
			}
			ms = append(ms, pm)
		}
		index := map[string]int{}
		for i, pm := range ms {
			index[pm.Digest] = i
		}
		// Manifests hidden from the listing (listEnabled false) still
		// protect what they need: look up the ones a listed tag or a
		// subject names. (A hidden index whose tags are hidden too stays
		// unseen: see docs/cli.md.)
		var hidden []string
		seen := map[string]bool{}
		for _, d := range append(tagDigests(tagInfos), subjects(ms)...) {
			if _, listed := index[d]; !listed && !seen[d] {
				seen[d] = true
				hidden = append(hidden, d)
			}
		}
		for _, d := range hidden {
			mi, err := p.m.Manifest(ctx, repo, d)
			if isNotFound(err) {
				continue // a dangling subject: its referrers may go
			} else if err != nil {
				return err
			}
			pm := plan.Manifest{Digest: mi.Digest, Tags: mi.Tags, Subject: mi.Subject, Unlisted: true}
			for _, r := range mi.References {
				pm.References = append(pm.References, r.Digest)
			}
			ms = append(ms, pm)
		}
		delManifests = plan.Manifests(repo, ms, delTags, p.po)
	}

	prefix := p.loginServer + "/" + repo
	out := p.opts.IO.Out
	if p.opts.DryRun {
		for _, t := range delTags {
			fmt.Fprintf(out, "Would delete: %s:%s\n", prefix, t.Name)
		}
		for _, m := range delManifests {
			fmt.Fprintf(out, "Would delete: %s@%s\n", prefix, m.Digest)
		}
		return nil
	}

	var mu sync.Mutex
	nTags := 0
	tagErr := p.each(ctx, len(delTags), func(ctx context.Context, i int) error {
		t := delTags[i]
		if t.Locked {
			if _, err := p.m.UpdateTag(ctx, repo, t.Name, unlock()); err != nil && !isNotFound(err) {
				return err
			}
		}
		err := p.m.DeleteTag(ctx, repo, t.Name)
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return fmt.Errorf("deleting tag %s: %w", t.Name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		nTags++
		fmt.Fprintf(out, "Deleted: %s:%s\n", prefix, t.Name)
		return nil
	})
	fmt.Fprintf(out, "Number of deleted tags: %d\n", nTags)
	if tagErr != nil {
		// A tag that stayed keeps its manifest: deleting manifests planned
		// without it could take what it names.
		fmt.Fprintf(out, "Number of deleted manifests: 0\n")
		return tagErr
	}

	// In plan order, one at a time: a referrer before its subject, an
	// index before its members.
	nManifests := 0
	var errs []error
	for _, m := range delManifests {
		if m.Locked {
			if _, err := p.m.UpdateManifest(ctx, repo, m.Digest, unlock()); err != nil && !isNotFound(err) {
				errs = append(errs, err)
				continue
			}
		}
		err := p.m.DeleteManifest(ctx, repo, m.Digest)
		if isNotFound(err) {
			continue
		} else if err != nil {
			errs = append(errs, fmt.Errorf("deleting manifest %s: %w", m.Digest, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		nManifests++
		fmt.Fprintf(out, "Deleted: %s@%s\n", prefix, m.Digest)
	}
	fmt.Fprintf(out, "Number of deleted manifests: %d\n", nManifests)
	return errors.Join(errs...)
}

// each runs fn for 0..n-1 with at most --concurrency in flight, and
// returns the errors.
func (p *purger) each(ctx context.Context, n int, fn func(context.Context, int) error) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, p.opts.Concurrency)
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

func tagDigests(ts []client.TagInfo) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Digest)
	}
	return out
}

func subjects(ms []plan.Manifest) []string {
	var out []string
	for _, m := range ms {
		if m.Subject != "" {
			out = append(out, m.Subject)
		}
	}
	return out
}

func unlock() client.AttributesUpdate {
	t := true
	return client.AttributesUpdate{DeleteEnabled: &t, WriteEnabled: &t}
}

func isNotFound(err error) bool {
	e, ok := client.AsError(err)
	return ok && e.Status == http.StatusNotFound
}
