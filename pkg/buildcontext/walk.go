package buildcontext

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// vcsDirs are left out of every context, at any depth: they are large,
// they are not what a build wants, and they may hold credentials.
var vcsDirs = map[string]bool{".git": true, ".svn": true, ".hg": true, ".bzr": true}

// entry is one path of a context, as the walk found it.
type entry struct {
	name string // slash-separated, relative to the context root
	mode fs.FileMode
	link string // symlinks: the target, as written
}

// walker lists a context directory through an os.Root, so that a path
// replaced by a symlink while it walks cannot lead it out of the context.
type walker struct {
	root    *os.Root
	ignore  *matcher
	keep    map[string]bool // always included, ignored or not
	entries []entry
	total   Stats
}

func (w *walker) walk(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := w.root.Open(orDot(dir))
	if err != nil {
		return fmt.Errorf("buildcontext: %w", err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("buildcontext: read %s: %w", orDot(dir), err)
	}
	slices.Sort(names)
	for _, name := range names {
		rel := name
		if dir != "" {
			rel = dir + "/" + name
		}
		fi, err := w.root.Lstat(rel)
		if err != nil {
			return fmt.Errorf("buildcontext: %w", err)
		}
		// A .git file (a submodule's or a worktree's pointer to its
		// repository) goes with the directories.
		if vcsDirs[name] && (fi.IsDir() || name == ".git") {
			continue
		}
		excluded := !w.keep[rel] && w.ignore.excluded(rel)
		mode := fi.Mode()
		switch {
		case mode.IsDir():
			if excluded && !w.mayBringBack(rel) {
				continue
			}
			at := len(w.entries)
			w.entries = append(w.entries, entry{name: rel, mode: mode})
			if err := w.walk(ctx, rel); err != nil {
				return err
			}
			// An excluded directory stays only as the parent of
			// something an exception brought back.
			if excluded && len(w.entries) == at+1 {
				w.entries = w.entries[:at]
			}
		case excluded:
		case mode.IsRegular():
			w.entries = append(w.entries, entry{name: rel, mode: mode})
			w.total.Files++
			w.total.Bytes += fi.Size()
		case mode&fs.ModeSymlink != 0:
			target, err := w.root.Readlink(rel)
			if err != nil {
				return fmt.Errorf("buildcontext: %w", err)
			}
			w.entries = append(w.entries, entry{name: rel, mode: mode, link: target})
		default:
			return fmt.Errorf("buildcontext: %q is a %s: a context holds only regular files, directories and symlinks (leave it out with .dockerignore)", rel, special(mode))
		}
	}
	return nil
}

// mayBringBack reports whether something below the excluded directory dir
// may still be included, so that the walk must go in.
func (w *walker) mayBringBack(dir string) bool {
	if w.ignore != nil && w.ignore.mayHoldExceptions(dir) {
		return true
	}
	for k := range w.keep {
		if strings.HasPrefix(k, dir+"/") {
			return true
		}
	}
	return false
}

func special(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	default:
		return "special file (" + m.Type().String() + ")"
	}
}

func orDot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// localName turns the path given for the Dockerfile (relative to the
// context root, or absolute) into a slash-separated one relative to the
// root, or fails if it is outside the context.
func localName(absDir, p string) (string, error) {
	if filepath.IsAbs(p) {
		rel, err := filepath.Rel(absDir, p)
		if err != nil {
			return "", fmt.Errorf("buildcontext: Dockerfile %q is outside the context %q", p, absDir)
		}
		p = rel
	}
	rel := path.Clean(filepath.ToSlash(p))
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("buildcontext: Dockerfile %q is outside the context %q", p, absDir)
	}
	return rel, nil
}
