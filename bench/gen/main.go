// Command gen fills an activator database with generated accounts, their
// links, devices, messages and timelines, quickly, for the benchmark
// (bench/run.sh) and for anyone reproducing a performance report.
//
//	go run ./bench/gen --database data/activator.db --accounts 1000000 --events 5000000 --messages 2000000
//	go run ./bench/gen --database 'postgres://postgres@127.0.0.1/bench?sslmode=disable' --secret-key-file data/secret.key --accounts 1000000
//
// The schema is activator's own: the database is opened with store.Open,
// which creates or migrates it, and the default organisation and the
// groups are made through the store. The bulk rows then go in with
// multi-row INSERTs (SQLite) or COPY (PostgreSQL), and are what activator
// itself would have written: ten-digit usernames and virtual numbers unique
// in the organisation, stages with the timeline, links, devices and
// messages that go with them, activated accounts with a SIP password sealed
// with the server's secret key and its digest hashes. So the server lists,
// searches, exports and registers them like any other.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

func main() {
	var (
		cfg       config
		stages    string
		keyFile   string
		groupsArg int
	)
	flag.StringVar(&cfg.dsn, "database", "", "activator's database: an SQLite file path or a postgres:// URL (required)")
	flag.IntVar(&cfg.accounts, "accounts", 100_000, "accounts to add")
	flag.IntVar(&cfg.events, "events", -1, "timeline events to add, spread over the new accounts (default: 5 per account)")
	flag.IntVar(&cfg.messages, "messages", -1, "sent, delivered and failed messages to add, spread over the invited accounts (default: 2 per 5 accounts)")
	flag.IntVar(&cfg.queued, "queued", 0, "messages to add in state queued, due now, one per account from the first, for the delivery worker")
	flag.StringVar(&cfg.queuedGateway, "queued-gateway", "", "gateway the queued messages go through (a configured SMS gateway's name)")
	flag.IntVar(&groupsArg, "groups", 20, "groups to spread the accounts over (gen-01, gen-02, ...; made when missing)")
	flag.StringVar(&stages, "stages", "new=20,invited=30,opened=15,installed=10,activated=25", "share of each stage among the new accounts, as weights")
	flag.Float64Var(&cfg.disabledPct, "disabled", 2, "percent of the new accounts that an operator disabled")
	flag.StringVar(&keyFile, "secret-key-file", "", "the server's secret key, which seals SIP passwords (default: secret.key beside an SQLite file, made if absent; required on PostgreSQL when accounts are activated)")
	flag.StringVar(&cfg.sipDomain, "sip-domain", "", "SIP domain (the digest realm) of activated accounts; must match the database's sip_domain setting (default: that setting, else sip.example.com, which is then set)")
	flag.StringVar(&cfg.passwordsFile, "sip-passwords", "", "write username;password of every activated account to this file (mode 0600), for SIP load tests")
	flag.Int64Var(&cfg.seed, "seed", 1, "seed of the generated values: the same seed on an empty database gives the same accounts, stages and times (secrets are always fresh)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gen --database DSN [flags]\n\nFills an activator database with generated accounts, links, devices, messages and events.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	if cfg.dsn == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if cfg.accounts < 0 || cfg.queued < 0 || groupsArg < 1 {
		log.Fatal("--accounts, --queued and --groups must not be negative (--groups at least 1)")
	}
	if cfg.events < 0 {
		cfg.events = 5 * cfg.accounts
	}
	if cfg.messages < 0 {
		cfg.messages = 2 * cfg.accounts / 5
	}
	if cfg.queued > 0 && cfg.queuedGateway == "" {
		log.Fatal("--queued needs --queued-gateway: the gateway the worker sends them through")
	}
	if cfg.queued > 0 && cfg.accounts == 0 {
		log.Fatal("--queued needs --accounts: each queued message goes to a new account")
	}
	var err error
	if cfg.weights, err = parseStages(stages); err != nil {
		log.Fatalf("--stages: %v", err)
	}
	cfg.groups = groupsArg
	postgres := strings.HasPrefix(cfg.dsn, "postgres://") || strings.HasPrefix(cfg.dsn, "postgresql://")
	if keyFile == "" && !postgres {
		keyFile = filepath.Join(filepath.Dir(cfg.dsn), "secret.key")
	}
	if keyFile == "" && cfg.weights[len(cfg.weights)-1] > 0 && cfg.accounts > 0 {
		log.Fatal("--secret-key-file is needed on PostgreSQL to seal the SIP passwords of activated accounts: give the key the server is given (--secret-key-file, or <data>/secret.key)")
	}
	if keyFile != "" {
		key, created, err := secret.LoadOrCreateKey(keyFile)
		if err != nil {
			log.Fatal(err)
		}
		if created {
			log.Printf("made the secret key %s: the server started with this data folder uses it", keyFile)
		}
		if cfg.box, err = secret.NewBox(key); err != nil {
			log.Fatal(err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := run(ctx, &cfg); err != nil {
		log.Fatal(err)
	}
	log.Printf("done in %s", time.Since(start).Round(time.Millisecond))
}

// config is what to generate.
type config struct {
	dsn                         string
	accounts, events, messages  int
	queued                      int
	queuedGateway               string
	groups                      int
	weights                     []float64 // per stage, in model.Stages order
	disabledPct                 float64
	sipDomain                   string
	passwordsFile               string
	seed                        int64
	box                         *secret.Box
	baseURL                     string // links in message bodies
	numbers                     store.NumberRange
	groupIDs                    []int64
	groupNames                  []string
	userDigits                  int
	now                         int64 // Unix ms
	existingUsers, existingNums map[string]bool
}

func parseStages(s string) ([]float64, error) {
	w := make([]float64, len(model.Stages))
	total := 0.0
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want stage=weight", part)
		}
		i := -1
		for j, st := range model.Stages {
			if st == k {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("%q: unknown stage; known: %s", k, strings.Join(model.Stages, ", "))
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return nil, fmt.Errorf("%q: want a weight of 0 or more", part)
		}
		w[i] = f
		total += f
	}
	if total == 0 {
		return nil, errors.New("every weight is 0")
	}
	for i := range w {
		w[i] /= total
	}
	return w, nil
}

// run prepares what the store knows how to make (schema, organisation,
// groups, settings), then bulk-loads the rest.
func run(ctx context.Context, cfg *config) error {
	st, err := store.Open(ctx, cfg.dsn)
	if err != nil {
		return err
	}
	err = prepare(ctx, st, cfg)
	st.Close()
	if err != nil {
		return err
	}
	bulk, err := openBulk(ctx, cfg.dsn)
	if err != nil {
		return err
	}
	defer bulk.close()
	if err := readExisting(ctx, bulk, cfg); err != nil {
		return err
	}
	return generate(ctx, bulk, cfg)
}

func prepare(ctx context.Context, st *store.Store, cfg *config) error {
	cfg.now = time.Now().UnixMilli()
	return st.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.EnsureOrganisation(ctx, model.DefaultOrgID, "default"); err != nil {
			return fmt.Errorf("making the default organisation: %w", err)
		}
		for i := 1; i <= cfg.groups; i++ {
			name := fmt.Sprintf("gen-%02d", i)
			g, err := tx.GroupByName(ctx, model.DefaultOrgID, name)
			if errors.Is(err, store.ErrNotFound) {
				g = &store.GroupRow{Group: model.Group{Name: name, ITEmail: fmt.Sprintf("it-%02d@example.com", i)}}
				err = tx.CreateGroup(ctx, model.DefaultOrgID, g)
			}
			if err != nil {
				return fmt.Errorf("making group %s: %w", name, err)
			}
			cfg.groupIDs = append(cfg.groupIDs, g.ID)
			cfg.groupNames = append(cfg.groupNames, name)
		}
		settings, err := tx.Settings(ctx, model.DefaultOrgID)
		if err != nil {
			return err
		}
		get := func(key string) string {
			if v, ok := settings[key]; ok && v != "" {
				return v
			}
			v, _ := model.SettingDefault(key)
			return v
		}
		cfg.baseURL = strings.TrimRight(get(model.SettingPublicBaseURL), "/")
		if cfg.baseURL == "" {
			cfg.baseURL = "http://127.0.0.1:8080"
		}
		if cfg.userDigits, err = strconv.Atoi(get(model.SettingUsernameDigits)); err != nil || cfg.userDigits < 6 || cfg.userDigits > 18 {
			return fmt.Errorf("the username_digits setting %q is not a length from 6 to 18", get(model.SettingUsernameDigits))
		}
		if cfg.numbers, err = parseRange(get(model.SettingVirtualNumberRange)); err != nil {
			return err
		}
		// A range must hold every account with room to spare, or activator's
		// own draws would walk long runs of taken numbers: keep it at most a
		// tenth full, widening it (more digits) when it would not be.
		counts, err := tx.AccountCounts(ctx, model.DefaultOrgID)
		if err != nil {
			return err
		}
		var existing int64
		for _, n := range counts {
			existing += int64(n)
		}
		need := uint64(existing+int64(cfg.accounts)) * 10
		if cfg.numbers.Size() < need {
			d := cfg.numbers.Digits
			for ; d < 15 && 9*pow10(d-1) < need; d++ {
			}
			cfg.numbers = store.NumberRange{From: pow10(d - 1), To: pow10(d) - 1, Digits: d}
			v := fmt.Sprintf("%d-%d", cfg.numbers.From, cfg.numbers.To)
			if err := tx.PutSetting(ctx, model.DefaultOrgID, model.SettingVirtualNumberRange, v); err != nil {
				return err
			}
			log.Printf("virtual_number_range set to %s: the range must hold %d accounts with room to spare", v, existing+int64(cfg.accounts))
		}
		dom := settings[model.SettingSIPDomain]
		switch {
		case cfg.sipDomain == "" && dom == "":
			cfg.sipDomain = "sip.example.com"
			fallthrough
		case dom == "":
			if err := tx.PutSetting(ctx, model.DefaultOrgID, model.SettingSIPDomain, cfg.sipDomain); err != nil {
				return err
			}
			log.Printf("sip_domain set to %s: the digest hashes of activated accounts are made with it", cfg.sipDomain)
		case cfg.sipDomain == "":
			cfg.sipDomain = dom
		case cfg.sipDomain != dom:
			return fmt.Errorf("--sip-domain %s: the database's sip_domain setting is %s, and digest hashes must be made with it", cfg.sipDomain, dom)
		}
		return nil
	})
}

func pow10(n int) uint64 {
	v := uint64(1)
	for range n {
		v *= 10
	}
	return v
}

func parseRange(v string) (store.NumberRange, error) {
	from, to, ok := strings.Cut(v, "-")
	a, err1 := strconv.ParseUint(from, 10, 64)
	b, err2 := strconv.ParseUint(to, 10, 64)
	if !ok || err1 != nil || err2 != nil || len(from) != len(to) || a > b {
		return store.NumberRange{}, fmt.Errorf("the virtual_number_range setting %q is not FROM-TO of the same length", v)
	}
	return store.NumberRange{From: a, To: b, Digits: len(from)}, nil
}

// readExisting loads the usernames and virtual numbers already taken, so
// that generated ones never collide with them.
func readExisting(ctx context.Context, b bulk, cfg *config) error {
	cfg.existingUsers, cfg.existingNums = map[string]bool{}, map[string]bool{}
	rows, err := b.db().QueryContext(ctx, `SELECT username, virtual_number FROM accounts`)
	if err != nil {
		return fmt.Errorf("reading existing accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u, n string
		if err := rows.Scan(&u, &n); err != nil {
			return err
		}
		cfg.existingUsers[u], cfg.existingNums[n] = true, true
	}
	return rows.Err()
}
