package web_test

// Benchmarks of the two hot paths, over real HTTP on loopback against a
// running app: the landing page a link opens (GET /a/{token}) and the
// device's redeem (POST /api/v1/device/activate), each on SQLite and on
// PostgreSQL, and the same client against a bare net/http handler as the
// ceiling. Client and server share the process and its CPUs, so compare the
// req/s of a hot path with BenchmarkBareHTTP's rather than reading either alone.
//
//	go test -run='^$' -bench=. -benchtime=3s -cpu 2 ./internal/web/
//	ACTIVATOR_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test -run='^$' -bench=. ./internal/web/

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store/storetest"
)

const (
	// landingLinks is how many live links the landing benchmark spreads its
	// views over, so views do not all hit one account's rows.
	landingLinks = 1000
	// clientsPerCPU is the RunParallel parallelism: each request mostly waits
	// on loopback and the database, so one client per CPU would leave the
	// server idle.
	clientsPerCPU = 8
	// prepareWorkers issue links at once while preparing; SQLite queues them
	// on its write lock anyway, PostgreSQL runs them side by side.
	prepareWorkers = 8

	benchUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
)

// benchBackend is a database a hot path is measured on.
type benchBackend struct {
	name string
	dsn  func(tb testing.TB) string // "" means SQLite in the data folder
}

var benchBackends = []benchBackend{
	{"sqlite", func(testing.TB) string { return "" }},
	{"postgres", storetest.PostgresDSN},
}

// forEachBenchBackend runs bench as a sub-benchmark per database with a fixture
// built on the first round and kept for every later round of b.N: building
// an app (and a PostgreSQL database) per round would dwarf short rounds.
func forEachBenchBackend(b *testing.B, bench func(b *testing.B, fx *benchFixture)) {
	for _, be := range benchBackends {
		var fx *benchFixture
		b.Run(be.name, func(sb *testing.B) {
			if be.name == "postgres" && os.Getenv(storetest.EnvPostgres) == "" {
				sb.Skipf("postgres: %s is not set", storetest.EnvPostgres)
			}
			if fx == nil {
				sb.StopTimer()
				fx = startBenchApp(parentScope{TB: sb, parent: b}, be.dsn)
				sb.StartTimer()
			}
			bench(sb, fx)
		})
	}
}

// parentScope is a sub-benchmark's B whose cleanups and temporary folders
// belong to the parent benchmark, so what it builds outlives one round of
// b.N. Failures still go to the sub-benchmark, on its own goroutine.
type parentScope struct {
	testing.TB
	parent testing.TB
}

func (s parentScope) Cleanup(f func()) { s.parent.Cleanup(f) }
func (s parentScope) TempDir() string  { return s.parent.TempDir() }

// benchFixture is a running app with a group "bench", a keep-alive client
// and the links issued so far.
type benchFixture struct {
	app      *app.App
	client   *http.Client
	accounts atomic.Int64 // accounts made so far: names and e-mails stay unique
	landing  []string     // landing page URLs, issued once
}

var benchCaller = activation.Caller{Name: "benchmark", Role: model.RoleAdmin, OrgID: model.DefaultOrgID}

// startBenchApp builds and runs an app on a loopback port, stopped and removed
// by tb's cleanup.
func startBenchApp(tb testing.TB, dsn func(testing.TB) string) *benchFixture {
	tb.Helper()
	s := apptest.Start(tb, apptest.Options{Database: dsn(tb), Version: "bench"})
	a := s.App
	fx := &benchFixture{app: a, client: benchClient()}
	tb.Cleanup(fx.client.CloseIdleConnections)
	ctx := context.Background()
	name, it := "bench", "it@example.com"
	if _, err := a.Domain.Groups.Create(ctx, model.GroupInput{Name: &name, ITEmail: &it}, benchCaller); err != nil {
		tb.Fatalf("creating the group: %v", err)
	}
	// A download for the detected platform, so the landing page lists one.
	if _, err := a.Domain.Downloads.Set(ctx, model.AppURL{Platform: "android", URL: "https://play.example.com/store/apps/details?id=voip"}, benchCaller); err != nil {
		tb.Fatalf("setting a download URL: %v", err)
	}
	return fx
}

// benchClient is a keep-alive client that keeps a connection per parallel client.
func benchClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute,
			DisableCompression: true,
		},
	}
}

// links issues n live activation links through the service, each for a new
// account, and waits until the delivery worker has carried their messages,
// so it does not compete with what is measured next.
func (fx *benchFixture) links(tb testing.TB, n int) []string {
	tb.Helper()
	ctx := context.Background()
	tokens := make([]string, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(prepareWorkers, n) {
		wg.Go(func() {
			for i := range next {
				tokens[i], errs[i] = fx.link(ctx)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("issuing links: %v", err)
	}
	fx.drain(tb)
	return tokens
}

func (fx *benchFixture) link(ctx context.Context) (string, error) {
	i := fx.accounts.Add(1)
	group, name, email := "bench", fmt.Sprintf("Bench User %d", i), fmt.Sprintf("user%d@example.com", i)
	lang := model.Languages[int(i)%len(model.Languages)]
	a, err := fx.app.Domain.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: &name, Email: &email, Language: &lang}, benchCaller)
	if err != nil {
		return "", fmt.Errorf("creating account %d: %w", i, err)
	}
	res, err := fx.app.Domain.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelEmail}, benchCaller)
	if err != nil {
		return "", fmt.Errorf("sending to %s: %w", a.Username, err)
	}
	token := secret.LinkTokens.FindString(res.Message.Body)
	if token == "" {
		return "", fmt.Errorf("no link in the message to %s", a.Username)
	}
	return token, nil
}

// drain waits until no message is queued or being sent.
func (fx *benchFixture) drain(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		busy := 0
		for _, state := range []string{model.MessageQueued, model.MessageSending} {
			ms, err := fx.app.Domain.Messages.List(ctx, state, "", 1, benchCaller)
			if err != nil {
				tb.Fatalf("listing %s messages: %v", state, err)
			}
			busy += len(ms)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatal("the delivery worker did not drain the queue in 5 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends req and reads the whole answer, so the connection is reused.
func benchDo(c *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// getAll GETs urls round-robin from parallel clients, asserting 200.
func getAll(b *testing.B, c *http.Client, urls []string) {
	var next atomic.Uint64
	b.SetParallelism(clientsPerCPU)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodGet, urls[next.Add(1)%uint64(len(urls))], nil)
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("User-Agent", benchUA)
			status, body, err := benchDo(c, req)
			if err != nil || status != http.StatusOK {
				b.Errorf("GET: status %d, error %v: %.300s", status, err, body)
				return
			}
		}
	})
	reportRate(b)
}

func BenchmarkLandingPage(b *testing.B) {
	forEachBenchBackend(b, func(b *testing.B, fx *benchFixture) {
		b.StopTimer()
		urls := fx.landingURLs(b)
		b.StartTimer()
		getAll(b, fx.client, urls)
	})
}

// landingURLs issues the landing benchmark's links on the first round;
// views never use a link up, so later rounds reuse them.
func (fx *benchFixture) landingURLs(tb testing.TB) []string {
	if fx.landing == nil {
		tokens := fx.links(tb, landingLinks)
		req, _ := http.NewRequest(http.MethodGet, fx.app.URL+"/a/"+tokens[0], nil)
		req.Header.Set("User-Agent", benchUA)
		status, body, err := benchDo(fx.client, req)
		if err != nil || status != http.StatusOK || !bytes.Contains(body, []byte("Bench User")) ||
			!bytes.Contains(body, []byte("/install?platform=android")) {
			tb.Fatalf("landing page: status %d, error %v, not the expected page: %.500s", status, err, body)
		}
		for _, t := range tokens {
			fx.landing = append(fx.landing, fx.app.URL+"/a/"+t)
		}
	}
	return fx.landing
}

func BenchmarkRedeem(b *testing.B) {
	forEachBenchBackend(b, func(b *testing.B, fx *benchFixture) {
		b.StopTimer()
		tokens := fx.links(b, b.N)
		bodies := make([][]byte, b.N)
		for i, t := range tokens {
			var err error
			bodies[i], err = json.Marshal(model.RedeemRequest{Token: t, Device: model.DeviceInfo{
				ID: fmt.Sprintf("bench-device-%s", t[len(t)-8:]), Platform: "android", Model: "Pixel 8", AppVersion: "1.0.0",
			}})
			if err != nil {
				b.Fatal(err)
			}
		}
		url := fx.app.URL + "/api/v1/device/activate"
		var next atomic.Int64
		b.SetParallelism(clientsPerCPU)
		b.StartTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[next.Add(1)-1]))
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				status, body, err := benchDo(fx.client, req)
				if err != nil || status != http.StatusOK {
					b.Errorf("redeem: status %d, error %v: %.300s", status, err, body)
					return
				}
			}
		})
		reportRate(b)
	})
}

// BenchmarkBareHTTP is the ceiling: the same client and parallelism against
// a net/http handler that only writes a landing page's bytes.
func BenchmarkBareHTTP(b *testing.B) {
	b.StopTimer()
	page := landingPageBody(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	c := benchClient()
	b.Cleanup(func() {
		c.CloseIdleConnections()
		srv.Close()
	})
	b.StartTimer()
	getAll(b, c, []string{"http://" + ln.Addr().String() + "/a/page"})
}

// landingPageBody fetches one real landing page from a throwaway SQLite app.
func landingPageBody(b *testing.B) []byte {
	fx := startBenchApp(b, func(testing.TB) string { return "" })
	tokens := fx.links(b, 1)
	req, _ := http.NewRequest(http.MethodGet, fx.app.URL+"/a/"+tokens[0], nil)
	req.Header.Set("User-Agent", benchUA)
	status, body, err := benchDo(fx.client, req)
	if err != nil || status != http.StatusOK || !bytes.Contains(body, []byte("<html")) {
		b.Fatalf("landing page: status %d, error %v: %.300s", status, err, body)
	}
	b.Logf("the bare handler writes %d bytes, a landing page's size", len(body))
	return body
}
