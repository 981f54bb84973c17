// Command berth is the server (berth serve), the build agent and the CLI
// in one binary.
package main

import "github.com/berth-project/berth/internal/cli"

func main() { cli.Main(newServeCmd(), newAgentCmd()) }
