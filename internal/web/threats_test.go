package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/provisioning"
)

// TestReplayedActivationFileIsRefused (docs/security.md, "Replayed
// activation file"): a device redeems the token an activation file
// carries; the same file redeemed again, from another device, is refused
// as link_used and yields no credential, and the file can no longer be
// fetched.
func TestReplayedActivationFileIsRefused(t *testing.T) {
	s := startServer(t, "")
	tok := issueLink(t, s, "Replay")
	code, file, _ := s.do("GET", "/a/"+tok+"/activation", "", "-")
	if code != 200 {
		t.Fatalf("the activation file: %d", code)
	}
	f, err := provisioning.ParseActivation(file)
	if err != nil || f.Payload.Token != tok {
		t.Fatalf("reading the activation file: %v", err)
	}
	redeem := func(device string) (int, string) {
		code, body, _ := s.do("POST", "/api/v1/device/activate", `{"token":"`+f.Payload.Token+`","device":{"id":"`+device+`","platform":"android"}}`, "-")
		return code, string(body)
	}
	if code, body := redeem("phone-1"); code != 200 || !strings.Contains(body, `"device_credential":"avd_`) {
		t.Fatalf("the first redeem: %d %s", code, body)
	}
	if code, body := redeem("phone-2"); code != http.StatusGone || !strings.Contains(body, `"link_used"`) || strings.Contains(body, "avd_") {
		t.Fatalf("the file replayed: %d %s, want 410 link_used and no credential", code, body)
	}
	if code, _, _ := s.do("GET", "/a/"+tok+"/activation", "", "-"); code != http.StatusGone {
		t.Fatalf("the activation file of a used link: %d, want 410", code)
	}
}
