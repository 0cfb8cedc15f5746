package e2e_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// TestLostPhone is, on SQLite and on PostgreSQL, what an operator does about a lost or stolen phone,
// with a real SIP client (sipp) registered on the embedded registrar:
// deactivating the device drops its registration at once, and the
// password the phone kept is refused; revoking all keys does the same for
// every device; an account bound to one device refuses another device.
func TestLostPhone(t *testing.T) {
	needTools(t, "sipp")
	onEachEngine(t, lostPhone)
}

func lostPhone(t *testing.T, bin, database string) {
	srv := startServe(t, bin, serveOptions{pki: newTestPKI(t), database: database})
	c := newCLI(t, bin, srv)
	srv.setUp(t, c)
	sipTarget := "127.0.0.1:" + strconv.Itoa(srv.udpPort)
	registrations := func(username string) []model.Registration {
		var d model.AccountDetail
		c.json(t, &d, "account", "show", username)
		return d.Registrations
	}

	erin := newAccount(t, c, "Erin", "3101")
	phone := erin.activate(t, c)
	if rc := sippRegister(t, sipTarget, "localhost", erin.username, erin.password); rc != 0 || len(registrations(erin.username)) != 1 {
		t.Fatalf("before: sipp exit %d, registrations %v; want registered", rc, registrations(erin.username))
	}
	deviceID := strings.TrimSpace(readFile(t, filepath.Join(phone, "device-id")))
	r := c.ok(t, "device-access", "deactivate", erin.username, deviceID)
	if !strings.Contains(r.stdout, "1 registration(s) dropped") || !strings.Contains(r.stdout, "the SIP password changed") {
		t.Errorf("deactivate says:\n%s", r)
	}
	if regs := registrations(erin.username); len(regs) != 0 {
		t.Fatalf("the deactivated phone's binding is still there: %+v", regs)
	}
	if rc := sippRegister(t, sipTarget, "localhost", erin.username, erin.password); rc != 1 {
		t.Errorf("the deactivated phone's password: sipp exit %d, want 1 (refused)", rc)
	}
	if r := c.exec(t, "device", "refresh", "--dir", phone); r.code == 0 {
		t.Errorf("the deactivated phone still refreshes its configuration:\n%s", r)
	}

	// Revoke all keys: the new phone, activated with a new link, is cut off too.
	frank := newAccount(t, c, "Frank", "3102")
	frank.activate(t, c)
	if rc := sippRegister(t, sipTarget, "localhost", frank.username, frank.password); rc != 0 {
		t.Fatalf("frank: sipp exit %d, want registered", rc)
	}
	var res model.KeysRevoked
	c.json(t, &res, "account", "revoke-keys", frank.username)
	if res != (model.KeysRevoked{Devices: 1, Registrations: 1, SIPPassword: true}) {
		t.Errorf("revoke-keys answered %+v", res)
	}
	if regs := registrations(frank.username); len(regs) != 0 {
		t.Fatalf("after revoke-keys the binding is still there: %+v", regs)
	}
	if rc := sippRegister(t, sipTarget, "localhost", frank.username, frank.password); rc != 1 {
		t.Errorf("after revoke-keys the old password: sipp exit %d, want 1 (refused)", rc)
	}

	// Bound to one device: a second phone is refused while the first is live.
	gina := newAccount(t, c, "Gina", "3103")
	c.ok(t, "account", "edit", gina.username, "--one-device")
	gina.activate(t, c)
	var sent struct {
		Message struct {
			ID int64 `json:"id"`
		} `json:"message"`
	}
	c.json(t, &sent, "account", "send", gina.username, "--channel", "email")
	link := outboxLink(t, c, sent.Message.ID)
	r = c.exec(t, "device", "activate", link, "--dir", filepath.Join(t.TempDir(), "other-phone"))
	if r.code == 0 || !strings.Contains(r.stderr, "account_bound") {
		t.Fatalf("a second phone of a bound account:\n%s", r)
	}
}

// outboxLink waits for message id in the outbox and returns its link.
func outboxLink(t *testing.T, c *cli, id int64) string {
	t.Helper()
	for deadline := time.Now().Add(sendTimeout); ; time.Sleep(100 * time.Millisecond) {
		var items outboxList
		c.json(t, &items, "outbox", "list")
		for _, it := range items.Outbox {
			if it.MessageID == id {
				var full struct {
					Body string `json:"body"`
				}
				c.json(t, &full, "outbox", "show", strconv.FormatInt(it.ID, 10))
				return linkRE.FindString(full.Body)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d never reached the outbox", id)
		}
	}
}
