// Command activator is the activator server and its operator's command line.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/activator-voip/activator/internal/cli"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Execute(ctx, cli.NewRootCmd(cli.Env{Getenv: os.Getenv, Version: version}), os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "activator: %v\n", err)
		os.Exit(1)
	}
}
