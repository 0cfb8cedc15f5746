package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The HTTP load: a closed loop of keep-alive connections, each sending its
// next request when the previous answer has been read in full. The client
// is a bare HTTP/1.1 writer and reader over net.Conn, so that on a small
// machine the load generator takes as little of the CPU it shares with the
// server as wrk would; net/http's client costs several times more per
// request.

func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	var (
		target      = fs.String("url", "", "base URL of the server, http://host:port (required)")
		pathsFile   = fs.String("paths", "", "GET these paths (one a line), round-robin")
		bodiesFile  = fs.String("bodies", "", "POST each line of this file once, as a JSON body, to --path")
		path        = fs.String("path", "", "the path of --bodies")
		conns       = fs.Int("connections", 64, "connections, each with one request in flight")
		requests    = fs.Int("requests", 0, "stop after this many requests (with --bodies: at most one per line; 0: all lines, or until --duration)")
		duration    = fs.Duration("duration", 10*time.Second, "stop sending after this long")
		userAgent   = fs.String("user-agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "User-Agent header")
		expect      = fs.Int("expect", 200, "the status every answer must have")
		out         = fs.String("out", "", "also write the result (JSON) to this file")
		allowErrors = fs.Bool("allow-errors", false, "exit 0 even when some requests failed")
		headers     headerList
	)
	fs.Var(&headers, "header", `send this header too, "Name: value" (repeatable): an API token, a console session`)
	fs.Parse(args)
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--url %q: want http://host:port", *target)
	}
	if (*pathsFile == "") == (*bodiesFile == "") {
		return errors.New("give --paths or --bodies")
	}
	var reqs [][]byte
	cycle := false
	if *pathsFile != "" {
		lines, err := readLines(*pathsFile)
		if err != nil {
			return err
		}
		for _, p := range lines {
			reqs = append(reqs, []byte("GET "+p+" HTTP/1.1\r\nHost: "+u.Host+"\r\nUser-Agent: "+*userAgent+"\r\nAccept: text/html\r\n"+headers.String()+"\r\n"))
		}
		cycle = true
	} else {
		if *path == "" {
			return errors.New("--bodies needs --path")
		}
		lines, err := readLines(*bodiesFile)
		if err != nil {
			return err
		}
		for _, b := range lines {
			reqs = append(reqs, []byte("POST "+*path+" HTTP/1.1\r\nHost: "+u.Host+"\r\nUser-Agent: "+*userAgent+
				"\r\nContent-Type: application/json\r\nAccept: application/json\r\n"+headers.String()+"Content-Length: "+strconv.Itoa(len(b))+"\r\n\r\n"+b))
		}
	}
	if len(reqs) == 0 {
		return errors.New("no requests to send")
	}
	total := *requests
	if !cycle && (total == 0 || total > len(reqs)) {
		total = len(reqs)
	}
	res := load(u.Host, reqs, cycle, total, *conns, *duration, *expect)
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	if *out != "" {
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if res.Errors > 0 && !*allowErrors {
		return fmt.Errorf("%d of %d requests failed", res.Errors, res.Errors+res.Requests)
	}
	if res.Requests == 0 {
		return errors.New("no request succeeded")
	}
	return nil
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// result is one load's outcome; latencies in milliseconds.
type result struct {
	Requests int64            `json:"requests"` // answered with the expected status
	Errors   int64            `json:"errors"`
	Statuses map[string]int64 `json:"statuses"` // every answer's status, and "io" for failed connections
	Seconds  float64          `json:"seconds"`
	Rate     float64          `json:"rate"` // requests per second
	P50      float64          `json:"p50_ms"`
	P90      float64          `json:"p90_ms"`
	P99      float64          `json:"p99_ms"`
	Max      float64          `json:"max_ms"`
	Conns    int              `json:"connections"`
}

func load(host string, reqs [][]byte, cycle bool, total, conns int, duration time.Duration, expect int) result {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		hist     histogram
		statuses = map[string]int64{}
		ok, bad  int64
		shown    atomic.Int32
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	start := time.Now()
	for range conns {
		wg.Go(func() {
			var (
				h      histogram
				st     [600]int64 // by status; 0: the connection failed
				c      *client
				nok    int64
				nbad   int64
				closed bool
			)
			defer func() {
				if c != nil {
					c.conn.Close()
				}
				mu.Lock()
				hist.merge(&h)
				for code, v := range st {
					if v == 0 {
						continue
					}
					k := strconv.Itoa(code)
					if code == 0 {
						k = "io"
					}
					statuses[k] += v
				}
				ok += nok
				bad += nbad
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if total > 0 && i >= total {
					return
				}
				if !cycle && i >= len(reqs) {
					return
				}
				req := reqs[i%len(reqs)]
				if c == nil || closed {
					if c != nil {
						c.conn.Close()
					}
					var err error
					if c, err = dial(host); err != nil {
						st[0]++
						nbad++
						if shown.Add(1) <= 3 {
							log.Printf("connecting: %v", err)
						}
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				t0 := time.Now()
				status, body, cl, err := c.do(req, expect)
				h.record(time.Since(t0))
				closed = cl
				if err != nil {
					st[0]++
					nbad++
					closed = true
					if shown.Add(1) <= 3 {
						log.Printf("request %d: %v", i, err)
					}
					continue
				}
				st[min(max(status, 1), len(st)-1)]++
				if status != expect {
					nbad++
					if shown.Add(1) <= 3 {
						log.Printf("request %d: status %d: %.300s", i, status, body)
					}
					continue
				}
				nok++
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return result{Requests: ok, Errors: bad, Statuses: statuses, Seconds: secs, Rate: float64(ok) / secs,
		P50: hist.quantile(0.50), P90: hist.quantile(0.90), P99: hist.quantile(0.99), Max: hist.quantile(1), Conns: conns}
}

// client is one keep-alive HTTP/1.1 connection.
type client struct {
	conn net.Conn
	r    *bufio.Reader
	body bytes.Buffer
}

func dial(host string) (*client, error) {
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}, nil
}

// do writes req and reads its answer in full: status, body (by
// Content-Length or chunked; kept only when the status is not expect, to
// say what went wrong), and whether the server will close.
func (c *client) do(req []byte, expect int) (status int, body []byte, closing bool, err error) {
	c.conn.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, true, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, true, fmt.Errorf("reading the status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, true, fmt.Errorf("not an HTTP answer: %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, true, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return status, nil, true, fmt.Errorf("reading headers: %w", err)
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return status, nil, true, fmt.Errorf("bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	c.body.Reset()
	keep := status != expect
	take := func(n int64) error {
		if keep {
			_, err := io.CopyN(&c.body, c.r, n)
			return err
		}
		_, err := c.r.Discard(int(n))
		return err
	}
	switch {
	case chunked:
		for {
			szLine, err := c.r.ReadSlice('\n')
			if err != nil {
				return status, nil, true, fmt.Errorf("reading a chunk: %w", err)
			}
			sz, _, _ := bytes.Cut(bytes.TrimRight(szLine, "\r\n"), []byte(";"))
			n, err := strconv.ParseInt(string(sz), 16, 64)
			if err != nil {
				return status, nil, true, fmt.Errorf("bad chunk size %q", szLine)
			}
			if n == 0 {
				for { // trailers, then the empty line
					t, err := c.r.ReadSlice('\n')
					if err != nil {
						return status, nil, true, err
					}
					if len(bytes.TrimRight(t, "\r\n")) == 0 {
						break
					}
				}
				break
			}
			if err := take(n); err != nil {
				return status, nil, true, err
			}
			if _, err := c.r.Discard(2); err != nil {
				return status, nil, true, err
			}
		}
	case length >= 0:
		if err := take(int64(length)); err != nil {
			return status, nil, true, err
		}
	default: // read until the server closes
		if _, err := io.Copy(&c.body, c.r); err != nil {
			return status, nil, true, err
		}
		closing = true
	}
	return status, c.body.Bytes(), closing, nil
}

// headerList is the repeatable --header flag: each "Name: value" as a
// request's header lines.
type headerList []string

func (h *headerList) String() string {
	var b strings.Builder
	for _, v := range *h {
		b.WriteString(v + "\r\n")
	}
	return b.String()
}

func (h *headerList) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("--header %q: want \"Name: value\"", v)
	}
	*h = append(*h, strings.TrimSpace(name)+": "+strings.TrimSpace(value))
	return nil
}
