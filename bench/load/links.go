package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// links makes live activation links the way an operator does: through the
// admin API the command line calls, one account and one send each, and
// reads each link from the outbox gateway (the message as its recipient
// gets it, as `activator outbox show ID -o json` prints it).

var linkRe = regexp.MustCompile(`/a/(avl_[a-z2-7]{32})`)

func runLinks(args []string) error {
	fs := flag.NewFlagSet("links", flag.ExitOnError)
	var (
		base      = fs.String("url", "", "activator's URL (required)")
		tokenFile = fs.String("token-file", "", "file holding an admin API token (required)")
		group     = fs.String("group", "bench", "group of the accounts (made when missing)")
		count     = fs.Int("count", 1000, "links to make, one account each")
		workers   = fs.Int("concurrency", 8, "API calls at once")
		tag       = fs.String("tag", "bench", "marks this batch's e-mail addresses, so its messages are told from others")
		out       = fs.String("out", "", "write the tokens here, one a line, in the order the accounts were made (required)")
		timeout   = fs.Duration("timeout", 10*time.Minute, "give up after this long")
	)
	fs.Parse(args)
	if *base == "" || *tokenFile == "" || *out == "" {
		return errors.New("links needs --url, --token-file and --out")
	}
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	api := &apiClient{base: strings.TrimRight(*base, "/"), token: strings.TrimSpace(string(tok)),
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: *workers}}}
	start := time.Now()

	if err := api.call(ctx, "POST", "/api/v1/groups", map[string]string{"name": *group, "it_email": "it@example.com"}, nil, 201, 409); err != nil {
		return err
	}
	// A download for the loader's User-Agent (Android), so the page lists one.
	if err := api.call(ctx, "PUT", "/api/v1/apps", map[string]string{"platform": "android", "url": "https://play.example.com/store/apps/details?id=voip"}, nil, 200); err != nil {
		return err
	}
	langs := []string{"en", "it", "de", "fr", "es"}
	emailOf := func(i int) string { return fmt.Sprintf("%s-%d@example.com", *tag, i) }
	err = parallel(ctx, *count, *workers, func(i int) error {
		var acc struct {
			Username string `json:"username"`
		}
		in := map[string]string{"group": *group, "name": fmt.Sprintf("Bench User %d", i), "email": emailOf(i), "language": langs[i%len(langs)]}
		if err := api.call(ctx, "POST", "/api/v1/accounts", in, &acc, 201); err != nil {
			return err
		}
		return api.call(ctx, "POST", "/api/v1/accounts/"+acc.Username+"/send", map[string]string{"channel": "email"}, nil, 201)
	})
	if err != nil {
		return err
	}
	log.Printf("links: %d accounts made and sent to in %.1fs", *count, time.Since(start).Seconds())

	// The delivery worker hands each message to the outbox gateway; wait
	// until none is left to hand over.
	for {
		busy := 0
		for _, state := range []string{"queued", "sending"} {
			var ms struct {
				Messages []json.RawMessage `json:"messages"`
			}
			if err := api.call(ctx, "GET", "/api/v1/messages?limit=1&state="+state, nil, &ms, 200); err != nil {
				return err
			}
			busy += len(ms.Messages)
		}
		if busy == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the delivery worker did not empty the queue: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Outbox ids are not the message ids: walk down from the newest, with
	// the batch's recipients telling its messages from any other.
	var list struct {
		Outbox []struct {
			ID int64 `json:"id"`
		} `json:"outbox"`
	}
	if err := api.call(ctx, "GET", "/api/v1/outbox?limit=1", nil, &list, 200); err != nil {
		return err
	}
	if len(list.Outbox) == 0 {
		return errors.New("the outbox is empty: were the links sent through another gateway?")
	}
	index := make(map[string]int, *count)
	for i := range *count {
		index[emailOf(i)] = i
	}
	tokens := make([]string, *count)
	var (
		mu    sync.Mutex
		found int
	)
	newest := list.Outbox[0].ID
	for hi := newest; hi > 0 && found < *count; hi -= 1000 {
		lo := max(1, hi-999)
		err := parallel(ctx, int(hi-lo+1), *workers, func(k int) error {
			var item struct {
				Recipient string `json:"recipient"`
				Body      string `json:"body"`
			}
			id := hi - int64(k)
			if err := api.call(ctx, "GET", "/api/v1/outbox/"+strconv.FormatInt(id, 10), nil, &item, 200, 404); err != nil {
				return err
			}
			i, ok := index[item.Recipient]
			if !ok {
				return nil
			}
			m := linkRe.FindStringSubmatch(item.Body)
			if m == nil {
				return fmt.Errorf("outbox item %d to %s holds no link", id, item.Recipient)
			}
			mu.Lock()
			defer mu.Unlock()
			if tokens[i] == "" {
				tokens[i] = m[1]
				found++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if found < *count {
		return fmt.Errorf("found %d of %d links in the outbox", found, *count)
	}
	if err := os.WriteFile(*out, []byte(strings.Join(tokens, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	log.Printf("links: %d links read from the outbox, %.1fs in all", found, time.Since(start).Seconds())
	return nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

type apiClient struct {
	base, token string
	http        *http.Client
}

// call sends in as JSON and decodes the answer into out, which must have
// one of the statuses want.
func (c *apiClient) call(ctx context.Context, method, path string, in, out any, want ...int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	for _, w := range want {
		if resp.StatusCode == w {
			if out != nil && resp.StatusCode < 300 {
				if err := json.Unmarshal(raw, out); err != nil {
					return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
				}
			}
			return nil
		}
	}
	return fmt.Errorf("%s %s: status %d: %.300s", method, path, resp.StatusCode, raw)
}
