// Command latchkey-bench measures latchkey against baselines measured in the
// same run on the same machine, and prints one table (also written as
// bench-results.json). Every figure is a ratio to its baseline, so the
// numbers mean the same on any machine.
//
// It runs the real latchkey binary (built beforehand: make bench builds it),
// creates its data in a temporary directory, binds only 127.0.0.1 and stops
// by itself. The baselines are this same program started in a baseline mode.
//
//	latchkey-bench [--latchkey bin/latchkey] [--out bench-results.json] [--duration 5s] [--floor]
//	latchkey-bench --store postgres [--out bench-results-postgres.json]
//	latchkey-bench soak [--duration 10m] [--rate 200]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	var err error
	switch {
	case len(args) > 0 && args[0] == "serve-bare":
		err = serveBare(ctx, args[1:])
	case len(args) > 0 && args[0] == "serve-bare-proxy":
		err = serveBareProxy(ctx, args[1:])
	case len(args) > 0 && args[0] == "serve-durable":
		err = serveDurable(ctx, args[1:])
	case len(args) > 0 && args[0] == "serve-floor-pg":
		err = serveFloorPG(ctx, args[1:])
	case len(args) > 0 && args[0] == "serve-durable-pg":
		err = serveDurablePG(ctx, args[1:])
	case len(args) > 0 && args[0] == "serve-floor":
		err = serveFloor(ctx, args[1:])
	case len(args) > 0 && args[0] == "serve-floor-landing":
		err = serveFloorLanding(ctx, args[1:])
	case len(args) > 0 && args[0] == "open-db":
		err = openDB(ctx, args[1:])
	case len(args) > 0 && args[0] == "soak":
		err = soak(ctx, args[1:])
	default:
		err = bench(ctx, args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "latchkey-bench:", err)
		os.Exit(1)
	}
}
