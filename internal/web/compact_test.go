package web_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

// A device's answers are compact JSON, one line: a program reads them, and
// indenting the configuration cost a redeem a tenth of its CPU. Decoded and
// encoded again they are the same bytes, so nothing is lost either.
func TestDeviceAnswersAreCompact(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		var acc model.Account
		json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","email":"ada@example.com"}`, 201), &acc)
		redeem, _ := json.Marshal(model.RedeemRequest{Token: s.liveLink(acc.Username), Device: model.DeviceInfo{ID: "d1", Platform: "android"}})
		body := s.mustDo("POST", "/api/v1/device/activate", string(redeem), 200)
		var res model.RedeemResponse
		if err := json.Unmarshal(body, &res); err != nil || res.DeviceCredential == "" || res.Config.Account.Password == "" {
			t.Fatalf("the redeem's answer: %v, %.300s", err, body)
		}
		compact(t, "the redeem's answer", body, &res)
		code, body, _ := s.do("GET", "/api/v1/device/config", "", res.DeviceCredential)
		var cfg model.DeviceConfig
		if err := json.Unmarshal(body, &cfg); code != 200 || err != nil || cfg.Account.Password != res.Config.Account.Password {
			t.Fatalf("the configuration: %d, %v", code, err)
		}
		compact(t, "the configuration", body, &cfg)
	})
}

func compact(t *testing.T, what string, body []byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want = append(want, '\n'); !bytes.Equal(body, want) {
		t.Errorf("%s is not compact JSON:\n%.400s\nwant\n%.400s", what, body, want)
	}
}
