package cmdutil

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCanceled is returned when the user answers no to a confirmation.
var ErrCanceled = errors.New("canceled")

// Confirm returns nil when yes (--yes) is set; else it asks "Are you sure
// you want to <action>? (y/n)" on a terminal and returns nil only for y or
// yes. Off a terminal it refuses rather than read a script's input as an
// answer: a pipe must say --yes.
func Confirm(io *IOStreams, yes bool, action string) error {
	if yes {
		return nil
	}
	if !io.InIsTerminal {
		return fmt.Errorf("refusing to %s without confirmation: give --yes (standard input is not a terminal to ask on)", action)
	}
	answer, err := io.ReadLine("Are you sure you want to " + action + "? (y/n): ")
	if err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return ErrCanceled
}
