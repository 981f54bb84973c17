package cmdutil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"golang.org/x/term"
)

// IOStreams are a command's standard streams and whether they are terminals.
// Commands write results to Out and status messages ("Logged in to …") to
// ErrOut, so that a pipe gets only the results.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InIsTerminal  bool // prompts are allowed, passwords are read without echo
	OutIsTerminal bool // jsonc is colored
	NoColor       bool // NO_COLOR is set

	inFd  int           // file descriptor of In when it is a terminal
	lines *bufio.Reader // In, buffered once for ReadLine
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InIsTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		NoColor:       os.Getenv("NO_COLOR") != "",
		inFd:          int(os.Stdin.Fd()),
	}
}

// Test returns streams on buffers, none a terminal, and the buffers: what
// the command reads, what it writes to Out and to ErrOut.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, inFd: -1}, in, out, errOut
}

// ReadLine reads one line of In, without its line ending. On a terminal it
// first writes prompt to ErrOut.
func (s *IOStreams) ReadLine(prompt string) (string, error) {
	if s.InIsTerminal && prompt != "" {
		fmt.Fprint(s.ErrOut, prompt)
	}
	if s.lines == nil {
		s.lines = bufio.NewReader(s.In)
	}
	line, err := s.lines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("standard input ended before a line was read")
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// ReadSecret reads a password: without echo after prompt when In is a
// terminal, else as one line of In (for `echo "$PW" | berth login -u me`).
func (s *IOStreams) ReadSecret(prompt string) (string, error) {
	if !s.InIsTerminal || s.inFd < 0 {
		return s.ReadLine("")
	}
	fmt.Fprint(s.ErrOut, prompt)
	// Ctrl-C while echo is off would leave the terminal silent: restore it
	// before exiting.
	if state, err := term.GetState(s.inFd); err == nil {
		sig := make(chan os.Signal, 1)
		done := make(chan struct{})
		signal.Notify(sig, os.Interrupt)
		defer func() { signal.Stop(sig); close(done) }()
		go func() {
			select {
			case <-sig:
				_ = term.Restore(s.inFd, state)
				fmt.Fprintln(s.ErrOut)
				os.Exit(130)
			case <-done:
			}
		}()
	}
	b, err := term.ReadPassword(s.inFd)
	fmt.Fprintln(s.ErrOut)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
