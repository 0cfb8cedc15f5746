package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/testnet"
)

var tester = activation.Caller{Name: "test", OrgID: model.DefaultOrgID}

func strPtr(s string) *string { return &s }

// scrape fetches /metrics from the operations listener and parses it as
// Prometheus does.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value is the sample of family name whose labels include want; -1 when
// there is none.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func redeem(t *testing.T, url, token string) int {
	t.Helper()
	body, _ := json.Marshal(model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: "metrics-test-device", Platform: "android", Model: "Pixel 8", AppVersion: "1.0.0"}})
	resp, err := http.Post(url+"/api/v1/device/activate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsMoveWithTraffic scrapes /metrics before and after real
// requests, a delivery and redeems, and checks each counter moved by what
// happened, and that no label holds a token.
func TestMetricsMoveWithTraffic(t *testing.T) {
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		s := apptest.Start(t, apptest.Options{Database: database, MetricsListen: "127.0.0.1:0",
			SIP: app.SIPConfig{UDP: "127.0.0.1:0"}})
		addr := s.App.Listening().Metrics
		if addr == "" {
			t.Fatal("no metrics address in the ready file's Listening")
		}
		if resp, err := http.Get(s.URL + "/metrics"); err != nil || resp.StatusCode != 404 {
			t.Fatalf("/metrics on the main listener: %v %v, want 404: it is served on --metrics-listen only", resp, err)
		}
		before := scrape(t, addr)
		ctx := context.Background()
		group, name, email, it := "sales", "Ada Lovelace", "ada@example.com", "it@example.com"
		if _, err := s.App.Domain.Groups.Create(ctx, model.GroupInput{Name: &group, ITEmail: &it}, tester); err != nil {
			t.Fatal(err)
		}
		a, err := s.App.Domain.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: &name, Email: &email}, tester)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.App.Domain.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelEmail}, tester)
		if err != nil {
			t.Fatal(err)
		}
		token := secret.LinkTokens.FindString(res.Message.Body)
		for deadline := time.Now().Add(20 * time.Second); s.App.Worker.Stats().Sent == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the message was not sent")
			}
		}
		// An SMS whose provider cannot be reached stays in the queue, for a retry.
		refusing := "http://" + testnet.RefusingAddr(t)
		sms := "sms-main"
		if _, err := s.App.Domain.Gateways.Create(ctx, model.GatewayInput{Name: &sms, KindName: strPtr("twilio"), DefaultFor: strPtr(model.ChannelSMS),
			Settings: map[string]string{"account_sid": "AC1", "auth_token": "tok-1", "from": "+15005550006", "base_url": refusing}}, tester); err != nil {
			t.Fatal(err)
		}
		mobile := "+393331234567"
		b, err := s.App.Domain.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: strPtr("Grace Hopper"), Mobile: &mobile}, tester)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Domain.Links.Send(ctx, b.Username, model.SendRequest{Channel: model.ChannelSMS}, tester); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); s.App.Worker.Stats().Retried == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the SMS was not tried")
			}
		}
		resp, err := http.Get(s.URL + "/a/" + token)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("landing page: %v %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if code := redeem(t, s.URL, token); code != 200 {
			t.Fatalf("redeem: %d", code)
		}
		if code := redeem(t, s.URL, token); code != 410 {
			t.Fatalf("second redeem: %d, want 410", code)
		}
		unknown, _ := secret.NewToken(secret.PrefixLink)
		if code := redeem(t, s.URL, unknown); code != 404 {
			t.Fatalf("redeem of an unknown link: %d, want 404", code)
		}
		// The landing page is larger than the server's write buffer, so its
		// last byte can reach this client before the handler has returned and
		// counted the request: scrape until that count shows, briefly.
		after := scrape(t, addr)
		for deadline := time.Now().Add(5 * time.Second); value(after, "activator_http_requests_total", "route", "GET /a/{token}", "status", "200") < 1 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			after = scrape(t, addr)
		}

		moved := func(by float64, name string, labels ...string) {
			t.Helper()
			b, a := max(0, value(before, name, labels...)), value(after, name, labels...)
			if a-b != by {
				t.Errorf("%s%v: %v before, %v after; want it %v higher", name, labels, b, a, by)
			}
		}
		moved(1, "activator_http_requests_total", "route", "POST /api/v1/device/activate", "status", "200")
		moved(1, "activator_http_requests_total", "route", "POST /api/v1/device/activate", "status", "410")
		moved(1, "activator_http_requests_total", "route", "POST /api/v1/device/activate", "status", "404")
		moved(1, "activator_http_requests_total", "route", "GET /a/{token}", "status", "200")
		moved(3, "activator_http_request_duration_seconds", "route", "POST /api/v1/device/activate") // sample count
		moved(1, "activator_activations_total")
		moved(1, "activator_redeem_refusals_total", "reason", "link_used")
		moved(1, "activator_redeem_refusals_total", "reason", "link_unknown")
		moved(1, "activator_delivery_outcomes_total", "outcome", "sent")
		moved(1, "activator_messages_by_state", "state", model.MessageSent)
		moved(1, "activator_messages_by_state", "state", model.MessageQueued)
		moved(1, "activator_delivery_outcomes_total", "outcome", "retried")
		if v := value(after, "activator_messages", "gateway", sms, "state", model.MessageQueued); v != 1 {
			t.Errorf("activator_messages{gateway=%q,state=queued} = %v, want the SMS waiting for its retry", sms, v)
		}
		if v := value(after, "activator_queue_depth"); v != 1 {
			t.Errorf("activator_queue_depth = %v, want the one SMS", v)
		}
		for _, n := range []string{"activator_queue_depth", "activator_queue_oldest_age_seconds", "activator_delivery_duplicates_total",
			"activator_db_errors_total", "activator_sip_registers_total", "activator_sip_auth_failures_total", "activator_build_info"} {
			if value(after, n) < 0 {
				t.Errorf("%s is missing", n)
			}
		}
		if v := value(after, "activator_db_connections_max"); v < 1 {
			t.Errorf("activator_db_connections_max = %v", v)
		}
		if v := value(after, "activator_metrics_database_errors"); v != 0 {
			t.Errorf("activator_metrics_database_errors = %v, want 0", v)
		}
		if database == "" {
			t.Run("deploy and docs", func(t *testing.T) { namesExist(t, after) })
		}
		for _, f := range after {
			for _, m := range f.Metric {
				for _, l := range m.Label {
					if strings.Contains(l.GetValue(), secret.PrefixLink) || strings.Contains(l.GetValue(), token[:12]) {
						t.Errorf("%s has a label holding a token: %s=%q", f.GetName(), l.GetName(), l.GetValue())
					}
				}
			}
		}
	})
}

// metricName finds the metric names in a PromQL expression or a document.
var metricName = regexp.MustCompile(`\b(?:activator|go|process)_[a-z0-9_]+\b`)

// namesExist checks that the sample alert rules, the sample dashboard and
// docs/operations.md name only metrics a live server exports, and that the
// document lists every activator_ metric.
func namesExist(t *testing.T, fams map[string]*dto.MetricFamily) {
	exists := func(name string) bool {
		if fams[name] != nil {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f := fams[strings.TrimSuffix(name, suffix)]; f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
				return true
			}
		}
		return false
	}
	check := func(file, expr string) {
		t.Helper()
		names := metricName.FindAllString(expr, -1)
		for _, n := range names {
			if !exists(n) {
				t.Errorf("%s: %q names %s, which activator does not export", file, expr, n)
			}
		}
	}

	raw, err := os.ReadFile("../../deploy/prometheus/activator-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("deploy/prometheus/activator-alerts.yml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert rule %+v: want an alert name, an expression and a summary", r)
			}
			if r.For != "" {
				if _, err := pmodel.ParseDuration(r.For); err != nil {
					t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
				}
			}
			check("activator-alerts.yml", r.Expr)
		}
	}
	if n < 5 {
		t.Errorf("only %d alert rules", n)
	}

	raw, err = os.ReadFile("../../deploy/grafana/activator-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("deploy/grafana/activator-dashboard.json: %v", err)
	}
	n = 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			n++
			if len(metricName.FindAllString(tg.Expr, -1)) == 0 {
				t.Errorf("dashboard panel %q: %q names no metric", p.Title, tg.Expr)
			}
			check("activator-dashboard.json", tg.Expr)
		}
	}
	if n < 5 {
		t.Errorf("only %d dashboard queries", n)
	}

	raw, err = os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, name := range metricName.FindAllString(doc, -1) {
		if !exists(name) {
			t.Errorf("docs/operations.md names %s, which activator does not export", name)
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "activator_") && !strings.Contains(doc, "| `"+name+"` |") {
			t.Errorf("%s is not in the metrics table of docs/operations.md", name)
		}
	}
}
