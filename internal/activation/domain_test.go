package activation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// admin is the operator the tests act as, in the default organisation.
var admin = Caller{Name: "test", Role: model.RoleAdmin, OrgID: model.DefaultOrgID}

// testBox is the secret key of the tests' domains.
func testBox(tb testing.TB) *secret.Box {
	tb.Helper()
	box, err := secret.NewBox(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return box
}

// newDomain bootstraps a store and returns the domain on it, built as
// internal/app builds it, without an account backend.
func newDomain(tb testing.TB, st *store.Store) Domain {
	tb.Helper()
	box := testBox(tb)
	boot, err := Bootstrap(context.Background(), st, box, tb.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("bootstrap: %v", err)
	}
	cat, err := i18n.Load()
	if err != nil {
		tb.Fatal(err)
	}
	tmpl, err := messaging.NewTemplates(cat)
	if err != nil {
		tb.Fatal(err)
	}
	return NewDomain(DomainConfig{Store: st, Box: box, SigningKey: boot.SigningKey, Templates: tmpl, ListenURL: "http://127.0.0.1:8080", GatewayKinds: testGatewayKinds})
}

func mustGroup(tb testing.TB, dom Domain, name string) {
	tb.Helper()
	if _, err := dom.Groups.Create(context.Background(), model.GroupInput{Name: &name, ITEmail: strp("it@example.com")}, admin); err != nil {
		tb.Fatalf("creating group: %v", err)
	}
}

// setNow sets the clock of every part of the domain that reads one.
func setNow(dom Domain, now func() time.Time) {
	dom.Accounts.now, dom.Gateways.now, dom.Links.now, dom.Devices.now, dom.Messages.now = now, now, now, now, now
	dom.Operators.now, dom.Access.now = now, now
	dom.Audit.now = now
}

func strp(s string) *string { return &s }

func mustAccount(t *testing.T, dom Domain) *model.Account {
	t.Helper()
	a, err := dom.Accounts.Create(context.Background(), model.AccountInput{
		Group: strp("sales"), Name: strp("Ada Lovelace"), Email: strp("ada@example.com"), Mobile: strp("+39 333 123 4567"),
	}, admin)
	if err != nil {
		t.Fatalf("creating account: %v", err)
	}
	return a
}

// sendToken sends an activation link and digs its token out of the message,
// as its recipient reads it.
func sendToken(t *testing.T, dom Domain, username string, kind model.LinkKind) string {
	t.Helper()
	res, err := dom.Links.Send(context.Background(), username, model.SendRequest{Channel: model.ChannelSMS, Kind: kind}, admin)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	m := res.Message
	i := strings.Index(m.Body, secret.PrefixLink)
	if i < 0 {
		t.Fatalf("no link in message body %q", m.Body)
	}
	return m.Body[i : i+secret.TokenLen]
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || de.Field != field {
		t.Fatalf("want an error naming field %q, got %#v (%v)", field, de, err)
	}
}

func fieldOf(err error) string {
	var de *Error
	if errors.As(err, &de) {
		return de.Field
	}
	return fmt.Sprint("no field: ", err)
}
