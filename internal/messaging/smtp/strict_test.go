package smtp_test

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/messagingtest"
	"github.com/activator-voip/activator/internal/messaging/smtp/smtptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// TestEveryEmailIsStrictMIME sends every e-mail activator can send, as
// activation.Service.Send renders it (every language, both kinds, with and
// without the QR code, with a name or none, ASCII and accented company
// names and addresses), through the gateway to a real SMTP server on
// loopback, and has both strict parsers of smtptest read what arrived.
func TestEveryEmailIsStrictMIME(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := messaging.NewTemplates(cat)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := startServer(t, plainNoTLS)
	froms := map[bool]string{false: "ACME IT <it@example.com>", true: "Société Générale — Service informatique <it@example.com>"}
	variants := []struct {
		name     string
		vars     messaging.MessageVars
		to       string
		accented bool // accented From and To display names
		qr       bool
	}{
		{name: "qr", vars: messaging.MessageVars{Name: "Ada Lovelace", Company: "ACME", ITEmail: "it@example.com"}, to: "Bob Example <bob@example.org>", qr: true},
		{name: "qr-accented", vars: messaging.MessageVars{Name: "Zoë Müller-Lüdenscheidt",
			Company: "Compagnie Générale d'Électricité et de Télécommunications Sécurisées du Sud-Ouest"},
			to: "Zoë Müller-Lüdenscheidt <zoe@example.org>", accented: true, qr: true},
		{name: "qr-anonymous", vars: messaging.MessageVars{}, to: "bob@example.org", qr: true},
		// A link that is not a secure link (as the templates' own start-up check renders) gets no QR code.
		{name: "no-qr", vars: messaging.MessageVars{Name: "Ada", Company: "ACME", ITEmail: "it@example.com", Link: "https://activate.example.com/a/sample"},
			to: "Bob Example <bob@example.org>"},
	}
	for _, lang := range cat.Languages() {
		for _, kind := range model.LinkKinds {
			for _, v := range variants {
				t.Run(lang+"/"+string(kind)+"/"+v.name, func(t *testing.T) {
					vars := v.vars
					if vars.Link == "" {
						token, _ := secret.NewToken(secret.PrefixLink)
						vars.Link = "https://activate.example.com/a/" + token
					}
					vars.ExpiresAt = time.Now().Add(72 * time.Hour)
					r, err := tm.Render(lang, model.ChannelEmail, kind, vars)
					if err != nil {
						t.Fatal(err)
					}
					// As activation.Links.Send queues it.
					m := &model.Message{ID: 7, Channel: model.ChannelEmail, Kind: kind.MessageKind(), Recipient: v.to, Subject: r.Subject, Body: r.Text, HTML: r.HTML}
					raw := sendAndReceive(t, ms, froms[v.accented], m)
					to, _ := mail.ParseAddress(v.to)
					smtptest.Check(t, raw, smtptest.Expect{From: "it@example.com", To: to.Address, Subject: r.Subject,
						Text: r.Text, HTML: []string{vars.Link}, QR: v.qr})
				})
			}
		}
	}
	t.Run("plain-text", func(t *testing.T) {
		m := &model.Message{ID: 8, Channel: model.ChannelEmail, Recipient: "bob@example.org", Subject: "Attivazione – ACME",
			Body: "Ciao,\n\napri " + link + "\n.\nUna riga con un punto sopra.\n" + strings.Repeat("lunga ", 200) + "\n\n-- \nACME\n"}
		raw := sendAndReceive(t, ms, froms[false], m)
		smtptest.Check(t, raw, smtptest.Expect{From: "it@example.com", To: "bob@example.org", Subject: m.Subject, Text: m.Body})
	})
}

// sendAndReceive sends m through a tls=none gateway to ms and returns what ms received.
func sendAndReceive(t *testing.T, ms *mailServer, from string, m *model.Message) []byte {
	t.Helper()
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "tls": "none", "from": from}, nil, messaging.Options{})
	before := len(ms.messages())
	id, err := messagingtest.Send(t, g, m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	got := ms.messages()
	if len(got) != before+1 {
		t.Fatalf("the server received %d messages, want %d", len(got), before+1)
	}
	raw := got[len(got)-1].data
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err != nil || msg.Header.Get("Message-ID") != id {
		t.Errorf("the provider id %s is not the Message-ID of what arrived", id)
	}
	return raw
}
