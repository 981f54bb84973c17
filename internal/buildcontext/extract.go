// Package buildcontext unpacks an uploaded build context, which is
// untrusted input, into a directory of the agent or the server. It owns the
// rules of what a context may hold: no entry lands outside the destination,
// by its name or through a link, no device nodes, and no more files and
// bytes than the limits allow.
//
// It knows nothing of how the context arrived (HTTP, an oci:// artifact, a
// git checkout) nor of what builds it; it imports only the standard
// library. Packing a context on the client is pkg/buildcontext.
package buildcontext

import (
	"archive/tar"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Defaults for the zero Limits.
const (
	DefaultMaxBytes   = 2 << 30
	DefaultMaxFiles   = 1_000_000
	DefaultMaxNameLen = 4096
	// maxElemLen is NAME_MAX of the file systems an agent runs on.
	maxElemLen = 255
	// maxLinkHops is how many symlinks a path may pass through, as Linux
	// allows (MAXSYMLINKS).
	maxLinkHops = 40
)

// Limits bound what one context may unpack to. A zero field takes its
// default.
type Limits struct {
	// MaxBytes bounds the bytes written for file contents, counted as
	// they are written, whatever the headers claim.
	MaxBytes int64
	// MaxFiles bounds the number of entries: files, directories and links.
	MaxFiles int64
	// MaxNameLen bounds an entry's name and a link's target, in bytes.
	MaxNameLen int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = DefaultMaxNameLen
	}
	return l
}

// RefusedError is the error for a context that breaks a rule: the fault
// is in the context, not in the machine that unpacks it, so a run that
// fails with it failed because of what the user sent.
type RefusedError struct {
	// Entry is the name as the archive gives it; "" when the archive as a
	// whole is refused.
	Entry  string
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Entry == "" {
		return "context: " + e.Reason
	}
	return fmt.Sprintf("context: %q: %s", e.Entry, e.Reason)
}

func refuse(entry, format string, args ...any) error {
	return &RefusedError{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

// Extract unpacks the tar archive r, gzip-compressed or not, into dest,
// which must be empty or not exist yet. Every write goes through an
// os.Root opened on dest, and every name is checked before it is used, so
// nothing outside dest is created or changed, whatever the archive holds.
//
// Files and directories keep their permission bits (setuid, setgid and
// sticky are dropped, and directories stay writable by their owner) and
// their modification times; owners are not kept. On any error, what was
// unpacked is removed again and dest is left empty; an error that is a
// *RefusedError names the entry and the rule it broke.
func Extract(ctx context.Context, r io.Reader, dest string, limits Limits) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("context: %w", err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("context: %w", err)
	}
	defer root.Close()
	names, err := readDir(root)
	if err != nil {
		return fmt.Errorf("context: %w", err)
	}
	if len(names) > 0 {
		return fmt.Errorf("context: %s is not empty", dest)
	}
	x := &extractor{
		root:   root,
		limits: limits.withDefaults(),
		dirs:   map[string]bool{},
		files:  map[string]bool{},
		buf:    make([]byte, 256<<10),
	}
	err = x.run(ctx, r)
	x.closeDir()
	if err != nil {
		x.clear()
		return err
	}
	return nil
}

type extractor struct {
	root   *os.Root
	limits Limits

	entries int64
	bytes   int64
	dirs    map[string]bool // directories known to be real, not links
	files   map[string]bool // regular files unpacked, the only hard link targets
	links   []string        // symlinks, checked again once all are there
	dirHdrs []dirHeader     // modes and times to set once the tree is full
	buf     []byte

	// An os.Root resolves a name one element at a time, with a system
	// call for each; entries come grouped by directory, so the directory
	// of the last one stays open, and files are created by their base name.
	cwd     string
	dirRoot *os.Root
}

// at returns the root in which to create name, and the name to create
// there. name's parents must have been checked already: they are real
// directories inside dest.
func (x *extractor) at(name string) (*os.Root, string, error) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return x.root, name, nil
	}
	dir, base := name[:i], name[i+1:]
	if dir != x.cwd || x.dirRoot == nil {
		x.closeDir()
		r, err := x.root.OpenRoot(dir)
		if err != nil {
			return nil, "", err
		}
		x.cwd, x.dirRoot = dir, r
	}
	return x.dirRoot, base, nil
}

func (x *extractor) closeDir() {
	if x.dirRoot != nil {
		x.dirRoot.Close()
		x.dirRoot = nil
	}
}

type dirHeader struct {
	name  string
	mode  fs.FileMode
	mtime time.Time
}

func (x *extractor) run(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return corrupt(err)
		}
		src = zr
	}
	tr := tar.NewReader(&ctxReader{ctx: ctx, r: src})
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt(err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // git archive writes one, with the commit id
		}
		x.entries++
		if x.entries > x.limits.MaxFiles {
			return refuse(hdr.Name, "more than %d entries in the context", x.limits.MaxFiles)
		}
		if err := x.entry(hdr, tr); err != nil {
			return err
		}
	}
	return x.finish()
}

// corrupt turns an error from reading the archive into a refusal when the
// archive is at fault, and leaves other errors (a broken connection, a
// cancelled context) as they are.
func corrupt(err error) error {
	var flateErr flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &flateErr),
		errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong), errors.Is(err, io.ErrUnexpectedEOF),
		// archive/tar reports bad sparse maps and PAX records with
		// errors it does not export.
		strings.HasPrefix(err.Error(), "archive/tar: "):
		return &RefusedError{Reason: "not a valid tar or tar.gz archive: " + err.Error()}
	}
	return fmt.Errorf("context: read the archive: %w", err)
}

func (x *extractor) entry(hdr *tar.Header, tr *tar.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeGNUSparse, tar.TypeSymlink, tar.TypeLink:
	case tar.TypeChar, tar.TypeBlock:
		return refuse(hdr.Name, "is a device node: a context holds only files, directories and links")
	case tar.TypeFifo:
		return refuse(hdr.Name, "is a named pipe (FIFO): a context holds only files, directories and links")
	default:
		return refuse(hdr.Name, "has tar entry type %q, which a context may not hold", hdr.Typeflag)
	}
	name, err := x.localName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" {
		return nil // the context's root, "./"
	}
	if err := x.parents(hdr.Name, name); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(hdr, name)
	case tar.TypeSymlink:
		return x.symlink(hdr, name)
	case tar.TypeLink:
		return x.hardLink(hdr, name)
	default:
		return x.file(hdr, name, tr)
	}
}

// localName checks an entry's name and returns it cleaned, relative to
// dest: "" for the root itself.
func (x *extractor) localName(raw string) (string, error) {
	if len(raw) > x.limits.MaxNameLen {
		return "", refuse(raw, "name longer than %d bytes", x.limits.MaxNameLen)
	}
	if raw == "" {
		return "", refuse(raw, "empty name")
	}
	if strings.IndexByte(raw, 0) >= 0 {
		return "", refuse(raw, "name holds a NUL byte")
	}
	if strings.HasPrefix(raw, "/") {
		return "", refuse(raw, "is an absolute path")
	}
	var elems []string
	for _, e := range strings.Split(raw, "/") {
		switch {
		case e == "" || e == ".":
		case e == "..":
			if c := path.Clean(raw); c == ".." || strings.HasPrefix(c, "../") {
				return "", refuse(raw, "leaves the context")
			}
			return "", refuse(raw, `has a ".." element`)
		case len(e) > maxElemLen:
			return "", refuse(raw, "has a path element longer than %d bytes", maxElemLen)
		default:
			elems = append(elems, e)
		}
	}
	return strings.Join(elems, "/"), nil
}

// parents makes sure every parent directory of name is a real directory
// inside dest, creating those that are missing, and refuses a path that
// would pass through a symlink or a file.
func (x *extractor) parents(raw, name string) error {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		p := name[:i]
		if x.dirs[p] {
			continue
		}
		fi, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("context: %q: %w", raw, err)
			}
		case err != nil:
			return fmt.Errorf("context: %q: %w", raw, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return refuse(raw, "goes through the symlink %q", p)
		case !fi.IsDir():
			return refuse(raw, "goes through %q, which is not a directory", p)
		}
		x.dirs[p] = true
	}
	return nil
}

func (x *extractor) dir(hdr *tar.Header, name string) error {
	if !x.dirs[name] {
		fi, err := x.root.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(name, 0o755); err != nil {
				return fmt.Errorf("context: %q: %w", hdr.Name, err)
			}
		case err != nil:
			return fmt.Errorf("context: %q: %w", hdr.Name, err)
		case !fi.IsDir():
			return refuse(hdr.Name, "is already in the archive, and not as a directory")
		}
		x.dirs[name] = true
	}
	x.dirHdrs = append(x.dirHdrs, dirHeader{name: name, mode: fs.FileMode(hdr.Mode).Perm() | 0o700, mtime: hdr.ModTime})
	return nil
}

func (x *extractor) file(hdr *tar.Header, name string, tr *tar.Reader) error {
	left := x.limits.MaxBytes - x.bytes
	if hdr.Size < 0 || hdr.Size > left {
		return refuse(hdr.Name, "the context unpacks to more than %d bytes", x.limits.MaxBytes)
	}
	in, base, err := x.at(name)
	if err != nil {
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	f, err := in.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return refuse(hdr.Name, "is already in the archive")
	}
	if err != nil {
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	defer f.Close()
	// Count what is written, not what the header says: the reader hands
	// out no more than the header's size today, but the limit must not
	// rest on that.
	src := io.LimitReader(tr, left+1)
	for {
		n, err := src.Read(x.buf)
		if n > 0 {
			x.bytes += int64(n)
			if x.bytes > x.limits.MaxBytes {
				return refuse(hdr.Name, "the context unpacks to more than %d bytes", x.limits.MaxBytes)
			}
			if _, err := f.Write(x.buf[:n]); err != nil {
				return fmt.Errorf("context: %q: %w", hdr.Name, err)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt(err)
		}
	}
	if err := f.Chmod(fs.FileMode(hdr.Mode).Perm()); err != nil {
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	if err := in.Chtimes(base, hdr.ModTime, hdr.ModTime); err != nil {
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	x.files[name] = true
	return nil
}

func (x *extractor) symlink(hdr *tar.Header, name string) error {
	target := hdr.Linkname
	switch {
	case target == "":
		return refuse(hdr.Name, "is a symlink to nothing")
	case len(target) > x.limits.MaxNameLen:
		return refuse(hdr.Name, "links to a target longer than %d bytes", x.limits.MaxNameLen)
	case strings.IndexByte(target, 0) >= 0:
		return refuse(hdr.Name, "links to a name that holds a NUL byte")
	case strings.HasPrefix(target, "/"):
		return refuse(hdr.Name, "links to %q, outside the context", target)
	}
	if t := path.Join(path.Dir(name), target); t == ".." || strings.HasPrefix(t, "../") {
		return refuse(hdr.Name, "links to %q, outside the context", target)
	}
	in, base, err := x.at(name)
	if err != nil {
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	if err := in.Symlink(target, base); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return refuse(hdr.Name, "is already in the archive")
		}
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	x.links = append(x.links, name)
	return nil
}

func (x *extractor) hardLink(hdr *tar.Header, name string) error {
	if strings.HasPrefix(hdr.Linkname, "/") {
		return refuse(hdr.Name, "is a hard link to %q, outside the context", hdr.Linkname)
	}
	target, err := x.localName(hdr.Linkname)
	var refused *RefusedError
	if errors.As(err, &refused) {
		return refuse(hdr.Name, "is a hard link to %q, which %s", hdr.Linkname, refused.Reason)
	}
	if !x.files[target] {
		return refuse(hdr.Name, "is a hard link to %q, which is not a file earlier in the archive", hdr.Linkname)
	}
	if err := x.root.Link(target, name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return refuse(hdr.Name, "is already in the archive")
		}
		return fmt.Errorf("context: %q: %w", hdr.Name, err)
	}
	return nil
}

// finish checks each symlink again now that every entry is in place, since
// one link's target may pass through another, and then sets the modes and
// times of directories, deepest first so that a parent's mode cannot
// stand in the way.
func (x *extractor) finish() error {
	for _, l := range x.links {
		if err := x.staysInside(l); err != nil {
			return err
		}
	}
	slices.SortFunc(x.dirHdrs, func(a, b dirHeader) int { return strings.Compare(b.name, a.name) })
	for _, d := range x.dirHdrs {
		if err := x.root.Chmod(d.name, d.mode); err != nil {
			return fmt.Errorf("context: %q: %w", d.name, err)
		}
		if err := x.root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
			return fmt.Errorf("context: %q: %w", d.name, err)
		}
	}
	return nil
}

// staysInside follows the symlink link the way the kernel would, element
// by element, and refuses it if it ever steps above dest. A target that
// does not exist cannot be followed further, and so cannot leave.
func (x *extractor) staysInside(link string) error {
	target, err := x.root.Readlink(link)
	if err != nil {
		return fmt.Errorf("context: %q: %w", link, err)
	}
	cur := strings.Split(path.Dir(link), "/")
	if cur[0] == "." {
		cur = nil
	}
	todo := strings.Split(target, "/")
	for hops := 0; len(todo) > 0; {
		e := todo[0]
		todo = todo[1:]
		switch e {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return refuse(link, "links to %q, which leads outside the context through other links", target)
			}
			cur = cur[:len(cur)-1]
			continue
		}
		p := strings.Join(append(slices.Clone(cur), e), "/")
		fi, err := x.root.Lstat(p)
		if err != nil {
			return nil // missing, or not a directory on the way: a dead end
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			hops++
			if hops > maxLinkHops {
				return refuse(link, "links to %q through more than %d links", target, maxLinkHops)
			}
			next, err := x.root.Readlink(p)
			if err != nil {
				return fmt.Errorf("context: %q: %w", link, err)
			}
			if strings.HasPrefix(next, "/") {
				return refuse(link, "links to %q, which leads outside the context through other links", target)
			}
			todo = append(strings.Split(next, "/"), todo...)
		case fi.IsDir():
			cur = append(cur, e)
		default:
			return nil // a file: the path ends here or goes nowhere
		}
	}
	return nil
}

// clear removes everything unpacked so far. RemoveAll does not follow
// symlinks, and the root keeps it inside dest.
func (x *extractor) clear() {
	names, err := readDir(x.root)
	if err != nil {
		return
	}
	for _, n := range names {
		// Directories always keep their owner's rwx, so RemoveAll can
		// empty them without a chmod first.
		_ = x.root.RemoveAll(n)
	}
}

func readDir(root *os.Root) ([]string, error) {
	f, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// ctxReader fails its reads once ctx is done, so that a large entry stops
// unpacking when the run is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
