package activation

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestSnapshotOfEveryKind makes one thing of every kind the audit reads and
// snapshots it: each is found, none holds a secret, a kind Snapshot does
// not know is ErrUnknownTargetKind and a missing target is a not-found.
func TestSnapshotOfEveryKind(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		acc := mustAccount(t, dom)
		if _, err := dom.Profiles.Create(ctx, "desk", nil, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Settings.Set(ctx, model.SettingPhoneRegion, "CH", admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Messages.SetTemplate(ctx, "sms.activation.de", model.MessageTemplateInput{Text: strp("{{.Company}}: {{.Link}}")}, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Downloads.Set(ctx, model.AppURL{Platform: "android", URL: "https://example.com/app.apk"}, admin); err != nil {
			t.Fatal(err)
		}
		op, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("ada"), Role: new(model.RoleCSR)}, admin)
		if err != nil {
			t.Fatal(err)
		}
		prev, err := dom.Imports.Preview(ctx, "a.csv", []byte("full name,mobile number\nBob,+393331234568\n"), ImportOptions{Group: "sales"}, admin)
		if err != nil {
			t.Fatal(err)
		}
		gw, err := dom.Gateways.Create(ctx, twilioInput("sms-main", "https://api.twilio.com"), admin)
		if err != nil {
			t.Fatal(err)
		}
		if err := dom.Gateways.SetGroupGateway(ctx, "sales", "sms", "sms-main", admin); err != nil {
			t.Fatal(err)
		}
		tok, err := dom.Operators.CreateToken(ctx, model.TokenInput{Name: "laptop", Operator: "ada"}, admin)
		if err != nil {
			t.Fatal(err)
		}
		receiptKey := gw.ReceiptURL[strings.LastIndex(gw.ReceiptURL, "/")+1:]

		for _, c := range []struct {
			kind, key string
			want      []string // in the snapshot
		}{
			{"account", acc.Username, []string{"Ada Lovelace"}},
			{"group", "sales", []string{`"name":"sales"`, `"gateways":{"sms":"sms-main"}`}},
			{"profile", "desk", []string{`"name":"desk"`}},
			{"setting", model.SettingPhoneRegion, []string{`"value":"CH"`}},
			{"template", "sms.activation.de", []string{`"key":"sms.activation.de"`, `"text":"{{.Company}}: {{.Link}}"`, `"custom_text":true`}},
			{"app", "android", []string{"app.apk"}},
			{"operator", "ada", []string{`"role":"csr"`}},
			{"import", strconv.FormatInt(prev.ID, 10), []string{`"file_name":"a.csv"`}},
			{"gateway", "sms-main", []string{`"name":"sms-main"`, `"auth_token":"` + messaging.Masked + `"`, `"account_sid":"AC1"`, `"groups":["sales"]`}},
			{"token", strconv.FormatInt(tok.APIToken.ID, 10), []string{`"prefix":"` + tok.APIToken.Prefix + `"`, `"operator":"ada"`}},
		} {
			b, err := dom.Snapshots.Take(ctx, c.kind, c.key, admin)
			if err != nil {
				t.Errorf("snapshot of %s %s: %v", c.kind, c.key, err)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("snapshot of %s %s lacks %s: %s", c.kind, c.key, w, b)
				}
			}
			for _, leak := range []string{"tok-secret-1", receiptKey, tok.Token, op.SetPasswordURL} {
				if strings.Contains(string(b), leak) {
					t.Errorf("snapshot of %s %s holds a secret (%.12s…): %s", c.kind, c.key, leak, b)
				}
			}
			_, err = dom.Snapshots.Take(ctx, c.kind, "no-such-"+c.kind, admin)
			if de := new(Error); !errors.As(err, &de) || de.Kind != KindNotFound {
				t.Errorf("snapshot of a missing %s: want not found, got %v", c.kind, err)
			}
		}
		if _, err := dom.Snapshots.Take(ctx, "pigeon", "sms", admin); !errors.Is(err, ErrUnknownTargetKind) {
			t.Errorf("a kind Snapshot does not read: want ErrUnknownTargetKind, got %v", err)
		}
	})
}

func TestRedactJSON(t *testing.T) {
	in := `{"token":"ava_abcdefghijklmnopqrstuvwxyz234567","api_token":{"prefix":"ava_abcdef…","token_prefix":"avl_x"},"set_password_url":"http://x/console/set-password/avp_x",
		"settings":{"password":"hunter2","api_key":"k","name":"ok"},"body":"open http://h/a/avl_abcdefghijklmnopqrstuvwxyz234567 now"}`
	out := RedactJSON([]byte(in))
	for _, leak := range []string{"hunter2", "ava_abcdefghijklmnopqrstuvwxyz234567", "avp_x", `"k"`, "avl_abcdefghijklmnopqrstuvwxyz234567"} {
		if strings.Contains(out, leak) {
			t.Errorf("redacted JSON still holds %q: %s", leak, out)
		}
	}
	for _, keep := range []string{`"name":"ok"`, `"token_prefix":"avl_x"`, "avl_abcdef…"} {
		if !strings.Contains(out, keep) {
			t.Errorf("redacted JSON lost %q: %s", keep, out)
		}
	}
}
