package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// The landing page: a name, a few buttons and links, padded to the size of
// activator's page so the bytes written are the same.
var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Activate your secure phone</title></head>
<body><main><h1>Hello {{.Name}}</h1>
<p>Your account {{.Username}} is ready. This link works until {{.Expires}}.</p>
<p><a class="button" href="/a/{{.Token}}/install?platform=android">Install</a>
<a class="button" href="/a/{{.Token}}/activation">Activate</a></p>
<img src="/a/{{.Token}}/qr.svg" alt="QR code of this page">
<p>Questions? Write to {{.ITEmail}}.</p>
<p class="pad">{{.Pad}}</p></main></body></html>
`))

type landingView struct {
	Lang, Name, Username, Expires, Token, ITEmail, Pad string
}

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var (
		dsn       = fs.String("database", "", "activator's database: SQLite file or postgres:// URL (required)")
		listen    = fs.String("listen", "127.0.0.1:0", "address to listen on")
		readyFile = fs.String("ready-file", "", "write {\"url\": ...} here once listening")
		pageBytes = fs.Int("page-bytes", 0, "pad the landing page to about this many bytes (activator's page size)")
		lifetime  = fs.Duration("lifetime", 30*time.Minute, "exit after this long, whatever happens")
	)
	fs.Parse(args)
	if *dsn == "" {
		return errors.New("serve needs --database")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	db, err := open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	// One indexed read: the link by its hash, with the account and group
	// facts the page shows, as activator's one query does.
	find, err := db.PrepareContext(ctx, `SELECT a.language, a.display_name, a.username, i.expires_at, g.it_email
		FROM invitations i JOIN accounts a ON a.id = i.account_id JOIN account_groups g ON g.id = a.group_id
		WHERE i.token_hash = $1`)
	if err != nil {
		return fmt.Errorf("preparing the landing query: %w", err)
	}
	redeem, err := db.PrepareContext(ctx, `UPDATE invitations SET redeemed_at = $1 WHERE token_hash = $2 AND redeemed_at IS NULL`)
	if err != nil {
		return fmt.Errorf("preparing the redeem update: %w", err)
	}
	pad := ""
	if *pageBytes > 0 {
		var sb strings.Builder
		landingPage.Execute(&sb, landingView{Lang: "en", Name: "Bench User 1", Username: "1234567890", Expires: "2 Jan 2027",
			Token: "avl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ITEmail: "it@example.com"})
		const filler = "Open this page on the phone you want to activate. "
		for n := *pageBytes - sb.Len(); n > 0; n -= len(filler) {
			pad += filler
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /a/{token}", func(w http.ResponseWriter, r *http.Request) {
		tok := r.PathValue("token")
		h := sha256.Sum256([]byte(tok))
		var (
			v       = landingView{Token: tok, Pad: pad}
			expires int64
		)
		err := find.QueryRowContext(r.Context(), h[:]).Scan(&v.Lang, &v.Name, &v.Username, &expires, &v.ITEmail)
		if errors.Is(err, sql.ErrNoRows) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		v.Expires = time.UnixMilli(expires).UTC().Format("2 Jan 2006")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		landingPage.Execute(w, v)
	})
	mux.HandleFunc("POST /api/v1/device/activate", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Token  string `json:"token"`
			Device struct {
				ID       string `json:"id"`
				Platform string `json:"platform"`
			} `json:"device"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || req.Token == "" || req.Device.ID == "" {
			http.Error(w, `{"error":{"code":"invalid_json"}}`, http.StatusBadRequest)
			return
		}
		h := sha256.Sum256([]byte(req.Token))
		password, _ := token("")
		credential, _ := token("avd_")
		var n int64
		err := db.write(func() error {
			res, err := redeem.ExecContext(r.Context(), time.Now().UnixMilli(), h[:])
			if err == nil {
				n, err = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if n == 0 {
			w.WriteHeader(http.StatusGone)
			io.WriteString(w, `{"error":{"code":"link_used"}}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"device_credential": credential, "password": password[:24]})
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if *readyFile != "" {
		b, _ := json.Marshal(map[string]string{"url": "http://" + ln.Addr().String()})
		if err := os.WriteFile(*readyFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	go func() {
		<-ctx.Done()
		shut, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(shut)
	}()
	log.Printf("serving on %s", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
