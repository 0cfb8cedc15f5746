// Command load drives bench/run.sh's measurements of activator and of the
// ceilings it is compared with:
//
//	load links  --url URL --token-file F --count N --out tokens.txt   make live links through the admin API
//	load http   --url URL --paths F | --bodies F --path P             a closed-loop HTTP load, p99 from a histogram
//	load queue  --database DSN --gateway G --count N                  wait for the delivery worker, report msg/s
//	load report --results DIR                                         print the table, fail on a missing row
package main

import (
	"fmt"
	"log"
	"os"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("load: ")
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: load links|http|queue|report [flags]  (load CMD -h for each one's flags)")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"links": runLinks, "http": runHTTP, "queue": runQueue, "report": runReport}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "load: unknown command %q: want links, http, queue or report\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		log.Fatal(err)
	}
}
