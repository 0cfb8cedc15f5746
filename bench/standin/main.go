// Command standin answers as Clickatell's One API does when it accepts a
// message (POST /v1/message, 202 with the message accepted and its
// apiMessageId), on loopback, so bench/run.sh can measure activator's
// delivery worker with a real HTTP gateway and no provider.
//
//	standin --ready-file F --api-key KEY
//
// It checks the API key (the raw key in Authorization, as Clickatell
// wants it), counts what it accepted (GET /count) and exits after
// --lifetime or on SIGTERM.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	var (
		listen    = flag.String("listen", "127.0.0.1:0", "address to listen on")
		readyFile = flag.String("ready-file", "", "write {\"url\": ...} here once listening")
		apiKey    = flag.String("api-key", "bench-key", "the API key every request must carry")
		lifetime  = flag.Duration("lifetime", 30*time.Minute, "exit after this long, whatever happens")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("standin: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()

	var accepted atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/message", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != *apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":1,"description":"Invalid or missing integration API Key"}}`)
			return
		}
		var req struct {
			Messages []struct {
				To      string `json:"to"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.Messages) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":21,"description":"Malformed payload"}}`)
			return
		}
		type verdict struct {
			APIMessageID string  `json:"apiMessageId"`
			Accepted     bool    `json:"accepted"`
			To           string  `json:"to"`
			Error        *string `json:"error"`
		}
		out := struct {
			Messages []verdict `json:"messages"`
			Error    *string   `json:"error"`
		}{}
		for _, m := range req.Messages {
			id := make([]byte, 16)
			rand.Read(id)
			out.Messages = append(out.Messages, verdict{APIMessageID: hex.EncodeToString(id), Accepted: true, To: m.To})
		}
		accepted.Add(int64(len(req.Messages)))
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, strconv.FormatInt(accepted.Load(), 10)+"\n")
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if *readyFile != "" {
		b, _ := json.Marshal(map[string]string{"url": "http://" + ln.Addr().String()})
		if err := os.WriteFile(*readyFile, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	go func() {
		<-ctx.Done()
		shut, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "standin: accepted %d messages\n", accepted.Load())
}
