//go:build pprof

// Built only with -tags pprof (bench/run.sh does so when BENCH_PPROF is
// set): net/http/pprof on ACTIVATOR_PPROF, a loopback address, so the
// benchmark can profile serve under load. A release build has no such
// listener, whatever its environment says.

package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	rpprof "runtime/pprof"
	"sync"
)

func init() {
	addr := os.Getenv("ACTIVATOR_PPROF")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "activator: ACTIVATOR_PPROF=%s: want a loopback address and port\n", addr)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "activator: pprof: %v\n", err)
		os.Exit(2)
	}
	runtime.SetBlockProfileRate(int(1e6)) // one sample per millisecond blocked
	runtime.SetMutexProfileFraction(100)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile of a span the caller chooses (a load's length is not
	// known in advance): POST start, then GET stop returns the profile.
	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	mux.HandleFunc("POST /debug/cpu/start", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		buf.Reset()
		if err := rpprof.StartCPUProfile(&buf); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
		}
	})
	mux.HandleFunc("GET /debug/cpu/stop", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		rpprof.StopCPUProfile()
		w.Write(buf.Bytes())
	})
	if f := os.Getenv("ACTIVATOR_PPROF_READY"); f != "" {
		if err := os.WriteFile(f, []byte("http://"+ln.Addr().String()+"\n"), 0o600); err != nil {
			fmt.Fprintf(os.Stderr, "activator: pprof: %v\n", err)
			os.Exit(2)
		}
	}
	go http.Serve(ln, mux) //nolint:errcheck // lives as long as the process
}
