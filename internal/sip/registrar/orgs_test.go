package registrar

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// orgPhone is a registered SIP client of the test: one user agent that
// sends, and receives what the registrar relays to its registration.
type orgPhone struct {
	cl  *sipgo.Client
	got chan *sip.Request
}

func newOrgPhone(t *testing.T) *orgPhone {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	p := &orgPhone{got: make(chan *sip.Request, 4)}
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		p.got <- req
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	// A call is refused as busy: the caller learns whose phone rang by
	// the phone's got, and the call ends with no dialog.
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		p.got <- req
		tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	if p.cl, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	return p
}

// orgRequest is a request to the registrar at addr: ruri's To (from's for
// a REGISTER), from's From.
func orgRequest(t *testing.T, addr string, method sip.RequestMethod, ruri, from string) *sip.Request {
	t.Helper()
	var r, f sip.Uri
	if err := sip.ParseUri(ruri, &r); err != nil {
		t.Fatal(err)
	}
	if err := sip.ParseUri(from, &f); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(method, r)
	req.SetDestination(addr)
	to := r
	if method == sip.REGISTER {
		to = f
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: f.User, Host: "127.0.0.1", Port: 5997}})
	}
	req.AppendHeader(&sip.ToHeader{Address: to})
	req.AppendHeader(&sip.FromHeader{Address: f, Params: sip.HeaderParams{{K: "tag", V: sip.GenerateTagN(8)}}})
	if method == sip.MESSAGE {
		req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
		req.SetBody([]byte("to " + ruri))
	}
	return req
}

// send sends req, answers the challenge with user's password (user+"pw"),
// and returns the final answer and the realm challenged with.
func (p *orgPhone) send(ctx context.Context, t *testing.T, req *sip.Request, user string) (*sip.Response, string) {
	t.Helper()
	res, err := p.cl.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	realm := ""
	if res.StatusCode == 401 || res.StatusCode == 407 {
		for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
			if h := res.GetHeader(name); h != nil {
				if _, v, ok := strings.Cut(h.Value(), `realm="`); ok {
					realm, _, _ = strings.Cut(v, `"`)
				}
			}
		}
		if res, err = p.cl.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: user + "pw"}); err != nil {
			t.Fatal(err)
		}
	}
	return res, realm
}

// TestOrganisationsOnTheRegistrar: two organisations besides the default,
// A (a.example) and B (b.example), each with an account numbered 700.
// Each organisation's accounts register under its own SIP domain as the
// realm; A's MESSAGE to 700 reaches A's 700 only; A cannot reach B's
// account by its username; and B's accounts cannot answer for A's domain,
// exactly as an unknown account cannot.
func TestOrganisationsOnTheRegistrar(t *testing.T) {
	r := startRegistrar(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	settings := r.srv.cfg.Settings
	// The registrar has served (and cached) the default organisation
	// before the others exist.
	if _, err := settings.Names(ctx); err != nil {
		t.Fatal(err)
	}
	orgs := activation.NewOrganisations(r.st, settings, nil)
	provider := activation.Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
	mkOrg := func(slug, domain string) int64 {
		t.Helper()
		name := strings.ToUpper(slug)
		o, err := orgs.Create(ctx, model.OrganisationInput{Name: &name, Slug: &slug, SIPDomain: &domain}, provider)
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	orgA, orgB := mkOrg("a", "a.example"), mkOrg("b", "b.example")
	// A's clients reach the registrar by a host name of A's own.
	if _, err := settings.Set(ctx, model.SettingSIPHost, "sip.a.example", activation.Caller{Name: "test", OrgID: orgA}); err != nil {
		t.Fatal(err)
	}
	err := r.st.Tx(ctx, func(tx *store.Tx) error {
		for _, o := range []struct {
			id     int64
			domain string
			users  map[string]string // username -> virtual number
		}{
			{orgA, "a.example", map[string]string{"anna": "701", "arno": "700", "1001": "711"}},
			{orgB, "b.example", map[string]string{"bert": "700", "bea": "702", "1001": "712"}},
		} {
			g := &store.GroupRow{Group: model.Group{Name: "g"}}
			if err := tx.CreateGroup(ctx, o.id, g); err != nil {
				return err
			}
			for u, number := range o.users {
				a := &store.AccountRow{OrgID: o.id, Account: model.Account{GroupID: g.ID, Username: u, DisplayName: u,
					SecurityModel: model.EndToEnd, VirtualNumber: number, Kind: "wizard", Stage: model.StageNew}}
				if err := tx.CreateAccount(ctx, a); err != nil {
					return err
				}
				// The hashes redeeming computes: the realm is the account's
				// organisation's SIP domain.
				realm := o.domain
				if u == "bea" {
					// Redeemed when B's SIP domain was a.example, since
					// handed over to A: her hashes are of A's realm.
					realm = "a.example"
				}
				in := []byte(u + ":" + realm + ":" + u + "pw")
				m, s := md5.Sum(in), sha256.Sum256(in)
				if err := tx.ActivateAccount(ctx, a.ID, []byte("sealed"), hex.EncodeToString(m[:]), hex.EncodeToString(s[:]), realm, time.Now()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	anna, arno, bert := newOrgPhone(t), newOrgPhone(t), newOrgPhone(t)
	for _, c := range []struct {
		phone        *orgPhone
		user, domain string
	}{{anna, "anna", "a.example"}, {arno, "arno", "a.example"}, {bert, "bert", "b.example"}} {
		reg := orgRequest(t, r.addr, sip.REGISTER, "sip:"+c.domain, "sip:"+c.user+"@"+c.domain)
		res, realm := c.phone.send(ctx, t, reg, c.user)
		if realm != c.domain || res.StatusCode != 200 {
			t.Fatalf("%s's REGISTER at %s: want 200 under realm %s, got %d under realm %q", c.user, c.domain, c.domain, res.StatusCode, realm)
		}
	}

	// A client that names its proxy in the Request-URI, here a host that
	// is the default organisation's domain too, registers in its own.
	reg := orgRequest(t, r.addr, sip.REGISTER, "sip:example.com", "sip:arno@a.example")
	if res, realm := arno.send(ctx, t, reg, "arno"); realm != "a.example" || res.StatusCode != 200 {
		t.Fatalf("arno's REGISTER through example.com: want 200 under realm a.example, got %d under realm %q", res.StatusCode, realm)
	}

	// 700 is a number of A's and of B's: A's caller reaches A's 700, by
	// A's own SIP host as outbound proxy.
	msg := orgRequest(t, r.addr, sip.MESSAGE, "sip:700@a.example", "sip:anna@a.example")
	msg.AppendHeader(sip.NewHeader("Route", "<sip:sip.a.example:"+strconv.Itoa(r.srv.Ports()["udp"])+";lr>"))
	if res, realm := anna.send(ctx, t, msg, "anna"); realm != "a.example" || res.StatusCode != 200 {
		t.Fatalf("anna's MESSAGE to 700: want 200 under realm a.example, got %d under realm %q", res.StatusCode, realm)
	}
	select {
	case got := <-arno.got:
		if string(got.Body()) != "to sip:700@a.example" || got.From().DisplayName != "701" {
			t.Errorf("arno got %q from %q, want anna's MESSAGE from 701", got.Body(), got.From().DisplayName)
		}
	case <-ctx.Done():
		t.Fatal("A's 700 never got A's MESSAGE")
	}

	// B's account is no account to A's callers, whatever domain they name.
	for _, to := range []string{"sip:bert@a.example", "sip:bert@b.example"} {
		m := orgRequest(t, r.addr, sip.MESSAGE, to, "sip:anna@a.example")
		if res, _ := anna.send(ctx, t, m, "anna"); res.StatusCode != 404 {
			t.Errorf("anna's MESSAGE to %s: want 404 as to an unknown account, got %d", to, res.StatusCode)
		}
	}
	m := orgRequest(t, r.addr, sip.MESSAGE, "sip:nobody@a.example", "sip:anna@a.example")
	if res, _ := anna.send(ctx, t, m, "anna"); res.StatusCode != 404 {
		t.Errorf("anna's MESSAGE to an unknown account: want 404, got %d", res.StatusCode)
	}
	select {
	case got := <-bert.got:
		t.Fatalf("B's phone got A's request %q", got.Body())
	case <-time.After(300 * time.Millisecond):
	}

	// B's accounts, with their right passwords, cannot register in A's
	// domain (not even bea, whose hashes would answer A's realm): answered
	// as an unknown username is.
	for _, user := range []string{"bert", "bea", "nobody"} {
		reg := orgRequest(t, r.addr, sip.REGISTER, "sip:a.example", "sip:"+user+"@a.example")
		if res, realm := bert.send(ctx, t, reg, user); realm != "a.example" || res.StatusCode != 403 || res.Reason != "Forbidden" {
			t.Errorf("%s's REGISTER at a.example: want 403 Forbidden under realm a.example, got %d %s under realm %q", user, res.StatusCode, res.Reason, realm)
		}
	}
	// 1001 is a username of A's and of B's, each in its own SIP domain:
	// each registers as its own organisation's, and a REGISTER, MESSAGE
	// or INVITE for 1001 at A's domain reaches A's 1001, at B's B's.
	a1001, b1001 := newOrgPhone(t), newOrgPhone(t)
	for _, c := range []struct {
		phone  *orgPhone
		domain string
	}{{a1001, "a.example"}, {b1001, "b.example"}} {
		reg := orgRequest(t, r.addr, sip.REGISTER, "sip:"+c.domain, "sip:1001@"+c.domain)
		if res, realm := c.phone.send(ctx, t, reg, "1001"); realm != c.domain || res.StatusCode != 200 {
			t.Fatalf("1001's REGISTER at %s: want 200 under realm %s, got %d under realm %q", c.domain, c.domain, res.StatusCode, realm)
		}
	}
	for _, c := range []struct {
		from         *orgPhone
		caller, host string
		want, not    *orgPhone
		number       string // the caller's virtual number, in the From's display name
	}{{anna, "anna", "a.example", a1001, b1001, "701"}, {bert, "bert", "b.example", b1001, a1001, "700"}} {
		for _, method := range []sip.RequestMethod{sip.MESSAGE, sip.INVITE} {
			req := orgRequest(t, r.addr, method, "sip:1001@"+c.host, "sip:"+c.caller+"@"+c.host)
			if method == sip.INVITE {
				req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: c.caller, Host: "127.0.0.1", Port: 5997}})
			}
			res, _ := c.from.send(ctx, t, req, c.caller)
			if want := map[sip.RequestMethod]int{sip.MESSAGE: 200, sip.INVITE: 486}[method]; res.StatusCode != want {
				t.Fatalf("%s's %s to 1001@%s: want %d from the callee, got %d", c.caller, method, c.host, want, res.StatusCode)
			}
			select {
			case got := <-c.want.got:
				if got.Method != method || got.From().DisplayName != c.number {
					t.Errorf("1001@%s got %s from %q, want %s's %s", c.host, got.Method, got.From().DisplayName, c.caller, method)
				}
			case <-ctx.Done():
				t.Fatalf("1001@%s never got %s's %s", c.host, c.caller, method)
			}
			select {
			case got := <-c.not.got:
				t.Fatalf("the other organisation's 1001 got %s's %s", c.caller, got.Method)
			default:
			}
		}
	}

	// The provider lets A's accounts call B's, addressed at B's domain:
	// anna reaches bert and B's 1001 there; B still cannot reach A, and
	// bert is still no account at A's domain.
	callsB := []string{"b"}
	if _, err := orgs.Update(ctx, "a", model.OrganisationInput{AllowCallsTo: &callsB}, provider); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		to   string
		want *orgPhone
	}{{"sip:bert@b.example", bert}, {"sip:1001@b.example", b1001}, {"sip:702@b.example", nil}} {
		m := orgRequest(t, r.addr, sip.MESSAGE, c.to, "sip:anna@a.example")
		res, _ := anna.send(ctx, t, m, "anna")
		if c.want == nil {
			// bea's number: she is not registered, but she is found.
			if res.StatusCode != 480 {
				t.Errorf("anna's MESSAGE to B's number 702 once allowed: want 480 (found, not registered), got %d", res.StatusCode)
			}
			continue
		}
		if res.StatusCode != 200 {
			t.Fatalf("anna's MESSAGE to %s once A may call B: want 200, got %d", c.to, res.StatusCode)
		}
		select {
		case got := <-c.want.got:
			if string(got.Body()) != "to "+c.to || got.From().DisplayName != "701" {
				t.Errorf("%s got %q from %q, want anna's MESSAGE from 701", c.to, got.Body(), got.From().DisplayName)
			}
		case <-ctx.Done():
			t.Fatalf("%s never got anna's MESSAGE", c.to)
		}
	}
	for _, c := range []struct {
		phone    *orgPhone
		from, to string
	}{{bert, "sip:bert@b.example", "sip:anna@a.example"}, {anna, "sip:anna@a.example", "sip:bert@a.example"}} {
		user := strings.TrimPrefix(strings.Split(c.from, "@")[0], "sip:")
		m := orgRequest(t, r.addr, sip.MESSAGE, c.to, c.from)
		if res, _ := c.phone.send(ctx, t, m, user); res.StatusCode != 404 {
			t.Errorf("%s's MESSAGE to %s: want 404, got %d", user, c.to, res.StatusCode)
		}
	}
	none := []string{}
	if _, err := orgs.Update(ctx, "a", model.OrganisationInput{AllowCallsTo: &none}, provider); err != nil {
		t.Fatal(err)
	}
	m = orgRequest(t, r.addr, sip.MESSAGE, "sip:bert@b.example", "sip:anna@a.example")
	if res, _ := anna.send(ctx, t, m, "anna"); res.StatusCode != 404 {
		t.Errorf("anna's MESSAGE to bert once the provider took the permission back: want 404, got %d", res.StatusCode)
	}

	// The default organisation keeps its realm, for requests naming its
	// domain and for those naming none.
	for _, domain := range []string{"example.com", "127.0.0.1"} {
		reg := orgRequest(t, r.addr, sip.REGISTER, "sip:"+domain, "sip:alice@"+domain)
		if res, realm := newOrgPhone(t).send(ctx, t, reg, "alice"); realm != "example.com" || res.StatusCode != 200 {
			t.Errorf("alice's REGISTER at %s: want 200 under realm example.com, got %d under realm %q", domain, res.StatusCode, realm)
		}
	}
	// Taking B's 1001 out of the embedded backend (disabled, deleted)
	// drops B's 1001's registration only, named by B's SIP domain.
	regsOf := func(orgID int64) int {
		t.Helper()
		var a *store.AccountRow
		a, err := r.st.AccountByUsername(ctx, orgID, "1001")
		if err != nil {
			t.Fatal(err)
		}
		regs, err := r.st.Registrations(ctx, a.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return len(regs)
	}
	if regsOf(orgA) != 1 || regsOf(orgB) != 1 {
		t.Fatalf("1001's registrations before: A %d, B %d, want 1 each", regsOf(orgA), regsOf(orgB))
	}
	// An account that may still register keeps its bindings: Remove is
	// also called with the domain an account's organisation left.
	if err := (&Embedded{Store: r.st, Settings: settings}).Remove(ctx, "1001", "b.example"); err != nil {
		t.Fatal(err)
	}
	if regsOf(orgA) != 1 || regsOf(orgB) != 1 {
		t.Fatalf("1001's registrations after removing b.example's while it may register: A %d, B %d, want 1 each", regsOf(orgA), regsOf(orgB))
	}
	if err := r.st.Tx(ctx, func(tx *store.Tx) error {
		b, err := tx.AccountByUsername(ctx, orgB, "1001")
		if err != nil {
			return err
		}
		return tx.SetAccountDisabled(ctx, b.ID, true)
	}); err != nil {
		t.Fatal(err)
	}
	if err := (&Embedded{Store: r.st, Settings: settings}).Remove(ctx, "1001", "b.example"); err != nil {
		t.Fatal(err)
	}
	if regsOf(orgA) != 1 || regsOf(orgB) != 0 {
		t.Errorf("1001's registrations after removing b.example's: A %d, B %d, want 1 and 0", regsOf(orgA), regsOf(orgB))
	}

}
