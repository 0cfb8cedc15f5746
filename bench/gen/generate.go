package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// Stage indexes, in model.Stages order.
const (
	stNew = iota
	stInvited
	stOpened
	stInstalled
	stActivated
)

const (
	minute = int64(60_000)
	hour   = 60 * minute
	day    = 24 * hour
	// linkExpiry is the default link_expiry setting, 168h.
	linkExpiry = 7 * day
)

var (
	firstNames = []string{"Maria", "Giulia", "Sofia", "Anna", "Laura", "Chiara", "Elena", "Francesca", "Sara", "Paola",
		"Luca", "Marco", "Giovanni", "Andrea", "Matteo", "Paolo", "Stefano", "Davide", "Simone", "Alessandro",
		"Hannah", "Lena", "Lukas", "Jonas", "Camille", "Louise", "Hugo", "Jules", "Lucía", "Martina",
		"Pablo", "Javier", "Emma", "Olivia", "James", "Oliver", "Ada", "Grace", "Alan", "Ken"}
	lastNames = []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
		"Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini", "Rizzo", "Lombardi", "Moretti",
		"Müller", "Schmidt", "Schneider", "Fischer", "Martin", "Bernard", "Dubois", "Durand", "García", "Fernández",
		"López", "Martínez", "Smith", "Jones", "Taylor", "Brown", "Lovelace", "Hopper", "Turing", "Thompson"}
	languages = []string{"", "it", "it", "en", "de", "fr", "es"}
	models    = [][2]string{{"android", "Pixel 8"}, {"android", "Galaxy S24"}, {"android", "Fairphone 5"},
		{"ios", "iPhone 15"}, {"ios", "iPhone 13"}, {"windows", "ThinkPad X1"}, {"macos", "MacBook Air"}, {"linux", "Framework 13"}}
)

// rng is splitmix64: tiny, fast, and seeded per account so that every
// table's producer draws the same facts for account i.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int             { return int(r.next() % uint64(n)) }
func (r *rng) float() float64             { return float64(r.next()>>11) / (1 << 53) }
func (r *rng) between(lo, hi int64) int64 { return lo + int64(r.next()%uint64(hi-lo+1)) }

// perm is a bijection of [0, size): i*mul+add modulo size, mul coprime with
// size. It spreads usernames and virtual numbers over their ranges the way
// activator's random draws do, without a set of the taken ones.
type perm struct{ size, mul, add uint64 }

func newPerm(size uint64, seed int64) perm {
	gcd := func(a, b uint64) uint64 {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	r := rng{s: uint64(seed) * 0x2545f4914f6cdd1d}
	mul := r.next()%size | 1
	for gcd(mul, size) != 1 {
		mul = (mul + 2) % size
	}
	return perm{size: size, mul: mul, add: r.next() % size}
}

func (p perm) at(i uint64) uint64 {
	hi, lo := bits.Mul64(i%p.size, p.mul)
	_, rem := bits.Div64(hi%p.size, lo, p.size)
	return (rem + p.add) % p.size
}

// account is what every table needs to know of generated account i.
type account struct {
	id                  int64
	username, number    string
	group               int
	name, email, mobile string
	security, language  string
	description         string
	stage               int
	disabled            bool
	channel             string // of its link
	platform, model     string
	deviceSeed          uint64
	created, invited    int64 // Unix ms
	sent, opened        int64
	installed, activate int64
}

// gen holds the plan: where each table's ids start and what is shared
// between tables.
type gen struct {
	cfg         *config
	users, nums perm
	userFrom    uint64
	accountID0  int64
	linkID0     int64
	messageID0  int64
	// Filled while generating, read by later tables.
	linkOf    []int32  // account index -> link index, -1 when none
	activated []int32  // indexes of activated accounts, in order
	tokens    []string // link index -> link token, for the message bodies
	invited   []int32  // indexes of accounts with a link, in order
	userSwap  map[int]string
	numSwap   map[int]string
}

func (g *gen) account(i int) account {
	cfg := g.cfg
	r := rng{s: uint64(cfg.seed)*0x9e3779b97f4a7c15 ^ uint64(i)*0xd1b54a32d192ed03}
	a := account{id: g.accountID0 + int64(i)}
	if u, ok := g.userSwap[i]; ok {
		a.username = u
	} else {
		a.username = strconv.FormatUint(g.userFrom+g.users.at(uint64(i)), 10)
	}
	if n, ok := g.numSwap[i]; ok {
		a.number = n
	} else {
		a.number = cfg.numbers.Format(cfg.numbers.From + g.nums.at(uint64(i)))
	}
	a.group = r.intn(len(cfg.groupIDs))
	first, last := firstNames[r.intn(len(firstNames))], lastNames[r.intn(len(lastNames))]
	a.name = first + " " + last
	if r.float() < 0.8 {
		a.email = strings.ToLower(first+"."+strings.ReplaceAll(last, " ", "")) + "." + strconv.FormatInt(a.id, 10) + "@example.com"
	}
	num := strconv.FormatInt(a.id%100_000_000, 10)
	a.mobile = "+3933" + strings.Repeat("0", 8-len(num)) + num
	a.security = string(model.EndToEnd)
	if r.float() < 0.3 {
		a.security = string(model.EndToSite)
	}
	a.language = languages[r.intn(len(languages))]
	if r.float() < 0.1 {
		a.description = "generated account " + strconv.Itoa(i)
	}
	x, acc := r.float(), 0.0
	for s, w := range cfg.weights {
		acc += w
		if x < acc || s == len(cfg.weights)-1 {
			a.stage = s
			break
		}
	}
	for a.stage > 0 && cfg.weights[a.stage] == 0 { // rounding left x past the last weighted stage
		a.stage--
	}
	a.disabled = r.float()*100 < cfg.disabledPct
	a.channel = model.ChannelSMS
	if a.email != "" && r.float() < 0.4 {
		a.channel = model.ChannelEmail
	}
	m := models[r.intn(len(models))]
	a.platform, a.model = m[0], m[1]
	a.deviceSeed = r.next()
	// A timeline that ends before now.
	a.created = cfg.now - 4*day - r.between(0, 361*day)
	a.invited = a.created + r.between(minute, 2*hour)
	a.sent = a.invited + r.between(2_000, 30_000)
	a.opened = a.sent + r.between(5*minute, 2*day)
	a.installed = a.opened + r.between(minute, 30*minute)
	a.activate = a.installed + r.between(minute, 20*minute)
	return a
}

// deviceID is the installation ID its device sent at redeem, a UUID.
func (a *account) deviceID() string {
	r := rng{s: a.deviceSeed}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.next()>>32, r.next()>>48, r.next()>>52, r.next()>>52, r.next()>>16)
}

// recipient is where the account's link went.
func (a *account) recipient() string {
	if a.channel == model.ChannelEmail {
		return a.email
	}
	return a.mobile
}

// updated is when the account's row last changed: its last stage.
func (a *account) updated() int64 {
	switch a.stage {
	case stInvited:
		return a.invited
	case stOpened:
		return a.opened
	case stInstalled:
		return a.installed
	case stActivated:
		return a.activate
	}
	return a.created
}

func generate(ctx context.Context, b bulk, cfg *config) error {
	g := &gen{cfg: cfg, userSwap: map[int]string{}, numSwap: map[int]string{}}
	g.userFrom = pow10(cfg.userDigits - 1)
	g.users = newPerm(9*g.userFrom, cfg.seed)
	g.nums = newPerm(cfg.numbers.Size(), cfg.seed+1)
	var err error
	if g.accountID0, err = b.maxID(ctx, "accounts"); err != nil {
		return err
	}
	if g.linkID0, err = b.maxID(ctx, "invitations"); err != nil {
		return err
	}
	if g.messageID0, err = b.maxID(ctx, "messages"); err != nil {
		return err
	}
	g.accountID0++
	g.linkID0++
	g.messageID0++
	// Generated values that an existing account holds are replaced by ones
	// from past the end of the generated indexes, which no new account uses.
	spare := uint64(cfg.accounts)
	for i := 0; i < cfg.accounts && (len(cfg.existingUsers) > 0 || len(cfg.existingNums) > 0); i++ {
		a := g.account(i)
		for u := a.username; cfg.existingUsers[u]; spare++ {
			u = strconv.FormatUint(g.userFrom+g.users.at(spare), 10)
			g.userSwap[i] = u
		}
		for n := a.number; cfg.existingNums[n]; spare++ {
			n = cfg.numbers.Format(cfg.numbers.From + g.nums.at(spare))
			g.numSwap[i] = n
		}
	}

	steps := []struct {
		name string
		run  func(context.Context, bulk) (int64, error)
	}{
		{"accounts", g.loadAccounts},
		{"invitations", g.loadLinks},
		{"devices", g.loadDevices},
		{"messages", g.loadMessages},
		{"events", g.loadEvents},
	}
	for _, s := range steps {
		start := time.Now()
		n, err := s.run(ctx, b)
		if err != nil {
			return err
		}
		d := time.Since(start)
		log.Printf("%-11s %9d rows in %6.1fs (%.0f rows/s)", s.name, n, d.Seconds(), float64(n)/max(d.Seconds(), 1e-9))
	}
	return b.finish(ctx, []string{"accounts", "invitations", "devices", "messages", "events"})
}

func nullable(v int64, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func (g *gen) loadAccounts(ctx context.Context, b bulk) (int64, error) {
	cfg := g.cfg
	var pw *bufio.Writer
	if cfg.passwordsFile != "" {
		f, err := os.OpenFile(cfg.passwordsFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 0, fmt.Errorf("writing the SIP passwords: %w", err)
		}
		defer f.Close()
		pw = bufio.NewWriter(f)
		defer pw.Flush()
	}
	g.linkOf = make([]int32, cfg.accounts)
	i := 0
	cols := []string{"id", "org_id", "group_id", "username", "display_name", "email", "mobile", "security_model",
		"profile_id", "virtual_number", "language", "description", "kind", "stage", "disabled",
		"sip_password", "ha1_md5", "ha1_sha256", "ha1_realm", "created_at", "updated_at", "activated_at", "username_scope"}
	n, err := b.load(ctx, "accounts", cols, func(row []any) bool {
		if i == cfg.accounts {
			return false
		}
		a := g.account(i)
		g.linkOf[i] = -1
		if a.stage >= stInvited {
			g.linkOf[i] = int32(len(g.invited))
			g.invited = append(g.invited, int32(i))
		}
		if a.stage == stActivated {
			g.activated = append(g.activated, int32(i))
		}
		var sealed any
		md5h, shah, realm := "", "", ""
		var activated any
		if a.stage == stActivated {
			password := secret.Password()
			in := []byte(a.username + ":" + cfg.sipDomain + ":" + password)
			m, s := md5.Sum(in), sha256.Sum256(in)
			md5h, shah, realm = hex.EncodeToString(m[:]), hex.EncodeToString(s[:]), cfg.sipDomain
			sealed = cfg.box.Seal([]byte(password))
			activated = a.activate
			if pw != nil {
				pw.WriteString(a.username + ";" + password + "\n")
			}
		}
		row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] = a.id, model.DefaultOrgID, cfg.groupIDs[a.group],
			a.username, a.name, a.email, a.mobile, a.security
		row[8], row[9], row[10], row[11], row[12], row[13], row[14] = nil, a.number, a.language, a.description, "wizard",
			model.Stages[a.stage], a.disabled
		// The default organisation's accounts live in its SIP domain's
		// usernames: the scope the store's insert trigger (dropped during
		// the load) would have given them.
		row[15], row[16], row[17], row[18], row[19], row[20], row[21], row[22] = sealed, md5h, shah, realm, a.created, a.updated(), activated, model.DefaultOrgID
		i++
		return true
	})
	return n, err
}

func (g *gen) loadLinks(ctx context.Context, b bulk) (int64, error) {
	g.tokens = make([]string, len(g.invited))
	k := 0
	cols := []string{"id", "account_id", "kind", "channel", "token_hash", "token_prefix", "created_at", "expires_at", "revoked_at", "redeemed_at"}
	return b.load(ctx, "invitations", cols, func(row []any) bool {
		if k == len(g.invited) {
			return false
		}
		a := g.account(int(g.invited[k]))
		token, hash := secret.NewToken(secret.PrefixLink)
		g.tokens[k] = token
		row[0], row[1], row[2], row[3], row[4], row[5] = g.linkID0+int64(k), a.id, model.LinkActivation, a.channel, hash, secret.Display(token)
		row[6], row[7], row[8], row[9] = a.invited, a.invited+linkExpiry, nil, nullable(a.activate, a.stage == stActivated)
		k++
		return true
	})
}

func (g *gen) loadDevices(ctx context.Context, b bulk) (int64, error) {
	k := 0
	cols := []string{"account_id", "device_id", "platform", "model", "app_version", "credential_hash", "credential_prefix",
		"created_at", "last_seen_at", "revoked_at"}
	return b.load(ctx, "devices", cols, func(row []any) bool {
		if k == len(g.activated) {
			return false
		}
		a := g.account(int(g.activated[k]))
		cred, hash := secret.NewToken(secret.PrefixDevice)
		row[0], row[1], row[2], row[3], row[4], row[5], row[6] = a.id, a.deviceID(), a.platform, a.model, "privatewave/5.2", hash, secret.Display(cred)
		row[7], row[8], row[9] = a.activate, a.activate+day, nil
		k++
		return true
	})
}

// messageBody is an activation message as a person reads it.
func (g *gen) messageBody(a *account, token string, expires int64) (subject, body string) {
	link := g.cfg.baseURL + "/a/" + token
	until := time.UnixMilli(expires).UTC().Format("2 Jan 2006")
	first, _, _ := strings.Cut(a.name, " ")
	if a.channel == model.ChannelEmail {
		return "Activate your secure phone", "Hello " + first + ",\n\nopen this link on your phone to install and activate your secure phone: " +
			link + "\n\nThe link works once and until " + until + ".\n"
	}
	return "", "activator: " + first + ", activate your secure phone: " + link + " (until " + until + ")"
}

func (g *gen) loadMessages(ctx context.Context, b bulk) (int64, error) {
	cfg := g.cfg
	total := cfg.messages
	if len(g.invited) == 0 {
		total = 0
	}
	m := 0
	q := 0
	cols := []string{"id", "org_id", "account_id", "invitation_id", "username", "channel", "kind", "gateway", "recipient",
		"subject", "body", "html", "state", "attempts", "max_attempts", "last_error", "provider_id", "created_at", "updated_at",
		"next_attempt_at", "locked_until", "sent_at", "delivered_at", "receipt_status"}
	return b.load(ctx, "messages", cols, func(row []any) bool {
		if m < total {
			k := m % len(g.invited)
			round := int64(m / len(g.invited))
			a := g.account(int(g.invited[k]))
			var inv any
			created, token := a.invited, g.tokens[k]
			if round == 0 {
				inv = g.linkID0 + int64(k)
			} else {
				// An earlier send, whose link the one that went out
				// last replaced.
				created = a.invited - round*day
				token, _ = secret.NewToken(secret.PrefixLink)
			}
			subject, body := g.messageBody(&a, token, created+linkExpiry)
			gateway := "gen-sms"
			if a.channel == model.ChannelEmail {
				gateway = "gen-mail"
			}
			state, after, provider := outcome(&a, round)
			attempts, lastErr := 1, ""
			var sent, delivered any = created + (a.sent - a.invited), nil
			receipt := ""
			switch state {
			case model.MessageFailed:
				attempts, lastErr, sent = 8, "gen-sms: error 25: Invalid recipient", nil
			case model.MessageDelivered:
				delivered, receipt = sent.(int64)+after, "DELIVRD"
			}
			updated := created
			if sent != nil {
				updated = sent.(int64)
			}
			if delivered != nil {
				updated = delivered.(int64)
			}
			row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8] = g.messageID0+int64(m), model.DefaultOrgID, a.id, inv,
				a.username, a.channel, model.MessageActivation, gateway, a.recipient()
			row[9], row[10], row[11], row[12], row[13], row[14], row[15], row[16] = subject, body, "", state, attempts, 8, lastErr, provider
			row[17], row[18], row[19], row[20], row[21], row[22], row[23] = created, updated, created, nil, sent, delivered, receipt
			m++
			return true
		}
		if q < cfg.queued {
			// Queued now, for the delivery worker: by SMS, carrying the
			// account's link when it has one.
			i := q % cfg.accounts
			a := g.account(i)
			a.channel = model.ChannelSMS
			token, _ := secret.NewToken(secret.PrefixLink)
			var inv any
			if k := g.linkOf[i]; k >= 0 {
				token, inv = g.tokens[k], g.linkID0+int64(k)
			}
			_, body := g.messageBody(&a, token, cfg.now+linkExpiry)
			row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8] = g.messageID0+int64(total+q), model.DefaultOrgID, a.id, inv,
				a.username, model.ChannelSMS, model.MessageActivation, cfg.queuedGateway, a.mobile
			row[9], row[10], row[11], row[12], row[13], row[14], row[15], row[16] = "", body, "", model.MessageQueued, 0, 8, "", ""
			row[17], row[18], row[19], row[20], row[21], row[22], row[23] = cfg.now, cfg.now, cfg.now, nil, nil, nil, ""
			q++
			return true
		}
		return false
	})
}

// outcome is how the account's message of a round ended: sent, delivered
// (an SMS whose receipt came back, after that many ms) or failed.
func outcome(a *account, round int64) (state string, after int64, providerID string) {
	r := rng{s: uint64(a.id)*0x94d049bb133111eb ^ uint64(round)}
	x := r.float()
	providerID = fmt.Sprintf("%016x%016x", r.next(), r.next())
	switch {
	case x < 0.02:
		return model.MessageFailed, 0, ""
	case x < 0.6 && a.channel == model.ChannelSMS:
		return model.MessageDelivered, r.between(1_000, 60_000), providerID
	}
	return model.MessageSent, 0, providerID
}

// detail writes an event's detail as activator does: a JSON object of
// strings, keys sorted (json.Marshal of a map), or nothing.
func detail(kv ...string) string {
	if len(kv) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Quote(kv[i]))
		sb.WriteByte(':')
		sb.WriteString(strconv.Quote(kv[i+1]))
	}
	sb.WriteByte('}')
	return sb.String()
}

type event struct {
	kind          model.EventKind
	actor, detail string
	at            int64
}

// timeline is account i's events up to its stage, then as many more
// (repeated views, re-provisioning, edits) as n asks for; or only the
// first n.
func (g *gen) timeline(a *account, k int32, n int, out []event) []event {
	out = out[:0]
	cfg := g.cfg
	out = append(out, event{model.EventCreated, "gen", detail("group", cfg.groupNames[a.group]), a.created})
	if a.stage >= stInvited {
		kv := []string{"channel", a.channel, "kind", string(model.LinkActivation), "link", secret.Display(g.tokens[k])}
		if int(k) < cfg.messages { // the message it queued is the account's first
			kv = append(kv, "message_id", strconv.FormatInt(g.messageID0+int64(k), 10))
		}
		out = append(out, event{model.EventMessageQueued, "gen", detail(kv...), a.invited})
		if int(k) < cfg.messages {
			if st, _, provider := outcome(a, 0); st == model.MessageFailed {
				out = append(out, event{model.EventMessageFailed, "", detail("error", "gen-sms: error 25: Invalid recipient"), a.sent})
			} else {
				out = append(out, event{model.EventMessageSent, "", detail("provider_id", provider), a.sent})
			}
		}
	}
	if a.stage >= stOpened {
		out = append(out, event{model.EventOpened, "", detail("platform", a.platform), a.opened})
	}
	if a.stage >= stInstalled {
		out = append(out, event{model.EventInstallClicked, "", detail("platform", a.platform), a.installed})
	}
	dev := ""
	if a.stage == stActivated {
		dev = a.deviceID()
		out = append(out, event{model.EventFileDownloaded, "", "", a.activate - 30_000},
			event{model.EventActivated, "", detail("app_version", "privatewave/5.2", "device_id", dev, "model", a.model, "platform", a.platform), a.activate})
	}
	last := out[len(out)-1].at
	for len(out) < n {
		last += hour
		switch a.stage {
		case stActivated:
			out = append(out, event{model.EventRefreshed, "", detail("device_id", dev), last})
		case stOpened, stInstalled:
			out = append(out, event{model.EventOpened, "", detail("platform", a.platform), last})
		default:
			out = append(out, event{model.EventEdited, "gen", "", last})
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func (g *gen) loadEvents(ctx context.Context, b bulk) (int64, error) {
	cfg := g.cfg
	if cfg.accounts == 0 {
		return 0, nil
	}
	per, extra := cfg.events/cfg.accounts, cfg.events%cfg.accounts
	var (
		i   int
		buf []event
		j   int
		a   account
	)
	cols := []string{"org_id", "account_id", "kind", "at", "actor", "detail"}
	return b.load(ctx, "events", cols, func(row []any) bool {
		for j >= len(buf) {
			if i == cfg.accounts {
				return false
			}
			n := per
			if i < extra {
				n++
			}
			a = g.account(i)
			buf = g.timeline(&a, g.linkOf[i], n, buf)
			j = 0
			i++
		}
		e := buf[j]
		j++
		row[0], row[1], row[2], row[3], row[4], row[5] = model.DefaultOrgID, a.id, e.kind, e.at, e.actor, e.detail
		return true
	})
}
