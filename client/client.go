// Package client is activator's reference device client: it does what a
// secure VoIP client does with an activation link, as docs/protocol.md
// describes. It reads the signed activation file, pins the server's signing
// key on first use, redeems the link for a device credential and the full
// configuration, and later fetches the configuration again with that
// credential. Everything it keeps lives in one directory, in files only the
// user can read.
//
// It is meant for client developers' own modules: its API names only its own
// types and the standard library's, never activator's internal packages
// (docs/protocol.md, section 9.1).
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
)

// Paths of the device API, relative to the server base URL of the activation file.
const (
	ActivatePath = "/api/v1/device/activate"
	ConfigPath   = "/api/v1/device/config"
)

// AppVersion is what the client reports as its app version unless Options says otherwise.
const AppVersion = "activator-client/1"

// Names of the files kept in Options.Dir.
const (
	FileConfig     = "config.json" // the last DeviceConfig, SIP password included
	FileCredential = "credential"  // the device credential
	FileServer     = "server.json" // the pinned server: signing key, base URL, TLS pin
	FileDeviceID   = "device-id"   // the device ID generated on first use
)

const (
	maxConfigSize  = 1 << 20
	requestTimeout = 30 * time.Second
	activationMIME = provisioning.DefaultActivationMIMEType
)

// Options configures Activate and Refresh.
type Options struct {
	// Dir holds the client's state; it is created with mode 0700.
	Dir string
	// HTTPClient makes every request; nil means a client with timeouts. When
	// the activation file carries a TLS pin, its *http.Transport (or the
	// default one) is cloned to check the pin instead of the CA chain; a
	// client with another kind of RoundTripper cannot check a pin and such an
	// activation is refused.
	HTTPClient *http.Client
	// Device describes this device. Zero fields are filled: ID is generated
	// once and kept in Dir/device-id, Platform comes from runtime.GOOS
	// (linux, macos, windows, ...), Model from the host name and AppVersion
	// is AppVersion.
	Device DeviceInfo
	// Logger receives debug lines with non-secret facts only; nil discards them.
	Logger *slog.Logger
	// AllowHTTP lets the client fetch a link and talk to a server over plain
	// http, for development. Without it a link, an activation file's URL or
	// a server that is not https is refused with ErrInsecureServer: over http
	// a network attacker could hand the device a file signed by its own key
	// on first use, and read the SIP password.
	AllowHTTP bool
	// TrustedKeys, when set, are the only keys the client accepts an
	// activation file from, first use included: a client built for one
	// operator (an OEM build) carries that operator's signing keys instead of
	// trusting the first file it sees (docs/protocol.md, section 4.2).
	TrustedKeys []ed25519.PublicKey
}

// checkScheme refuses a URL that is not https unless o.AllowHTTP.
func (o *Options) checkScheme(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s is not a valid URL", what)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if o.AllowHTTP {
			return nil
		}
		return fmt.Errorf("%w: %s on %s is http; use https, or allow http for development (--insecure)", ErrInsecureServer, what, u.Host)
	}
	return fmt.Errorf("%s on %s: scheme %q is not https", what, u.Host, u.Scheme)
}

// trusts reports whether file may be accepted when no server is pinned
// yet: it is signed by one of TrustedKeys or by a key one of them
// endorsed through the file's key chain.
func (o *Options) trusts(file *provisioning.ActivationFile) bool {
	if len(o.TrustedKeys) == 0 {
		return true // trust on first use
	}
	for _, k := range o.TrustedKeys {
		if file.EndorsedBy(k) {
			return true
		}
	}
	return false
}

// Result is what Activate and Refresh obtained.
type Result struct {
	// Config is the device configuration, SIP password included.
	Config DeviceConfig
	// Server is activator's base URL the device talks to.
	Server string
	// KeyID names the server's signing key: the lowercase hex of the first
	// 8 bytes of the SHA-256 of the key (docs/protocol.md, section 4.1).
	KeyID string
	// FirstUse is true when this activation pinned the server's key.
	FirstUse bool
}

// pinnedServer is Dir/server.json: the server this device trusts.
type pinnedServer struct {
	Server    string    `json:"server"`
	PublicKey string    `json:"public_key"` // base64url, no padding
	KeyID     string    `json:"key_id"`
	TLSPin    string    `json:"tls_pin,omitempty"`
	PinnedAt  time.Time `json:"pinned_at"`
}

// Activate activates this device from source: a landing page URL
// (https://host/a/{token}), the activation file's URL
// (https://host/a/{token}/activation) or the path of a downloaded activation
// file. It verifies the file, refuses a file signed by a key other than the
// one pinned on first use (ErrOtherServer), redeems the link and stores the
// credential, the configuration and the pinned server in opts.Dir. Error
// answers come back as *APIError, which errors.Is matches against
// ErrLinkUsed, ErrLinkExpired, ErrLinkUnknown, ErrLinkRevoked and the others.
func Activate(ctx context.Context, source string, opts Options) (*Result, error) {
	log := opts.logger()
	if err := opts.makeDir(); err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}

	data, kind, err := opts.readSource(ctx, source)
	if err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}
	file, err := provisioning.ParseActivation(data)
	if err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}
	p := file.Payload
	keyID := provisioning.KeyID(file.PublicKey)
	log.Debug("activation file verified", "source", kind, "server", p.Server, "key_id", keyID,
		"expires_at", p.ExpiresAt, "tls_pinned", p.TLSPin != "")

	pinned, err := opts.loadServer()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("activating: %w", err)
	}
	firstUse := pinned == nil
	if firstUse && !opts.trusts(file) {
		log.Debug("activation file refused: not signed by a key built into this client", "key_id", keyID)
		return nil, fmt.Errorf("activating: %w: the file's key is %s, which is not one of the %d keys this client trusts",
			ErrOtherServer, keyID, len(opts.TrustedKeys))
	}
	if err := opts.checkScheme("the server named by the activation file", p.Server); err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}
	if !firstUse {
		key, _ := base64.RawURLEncoding.DecodeString(pinned.PublicKey)
		// The server may have rotated its key since: the file's key chain
		// then leads from the pinned key to the one that signed it, and
		// the device pins the new key below.
		if !file.EndorsedBy(ed25519.PublicKey(key)) {
			log.Debug("activation file refused: signed by another key", "key_id", keyID, "pinned_key_id", pinned.KeyID, "chain_links", len(file.Chain))
			return nil, fmt.Errorf("activating: %w: the file's key is %s, this device trusts only key %s (first activated from %s) and the keys it endorsed",
				ErrOtherServer, keyID, pinned.KeyID, pinned.Server)
		}
		if !file.PublicKey.Equal(ed25519.PublicKey(key)) {
			log.Debug("following the server's key rotation", "pinned_key_id", pinned.KeyID, "key_id", keyID)
		}
	}

	dev, err := opts.deviceInfo()
	if err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}
	body, err := json.Marshal(redeemRequest{Token: p.Token, Device: dev})
	if err != nil {
		return nil, fmt.Errorf("activating: encoding request: %w", err)
	}
	var rr redeemResponse
	status, err := opts.call(ctx, http.MethodPost, p.Server+ActivatePath, p.TLSPin, "", body, &rr)
	if err != nil {
		log.Debug("redeem failed", "server", p.Server, "status", status)
		return nil, fmt.Errorf("activating: redeeming the link at %s: %w", p.Server, err)
	}
	if err := checkCredential(rr.DeviceCredential); err != nil {
		return nil, fmt.Errorf("activating: server answer: %w", err)
	}
	log.Debug("link redeemed", "server", p.Server, "device_id", dev.ID, "platform", dev.Platform,
		"username", rr.Config.Account.Username)

	ps := pinnedServer{
		Server:    p.Server,
		PublicKey: base64.RawURLEncoding.EncodeToString(file.PublicKey),
		KeyID:     keyID,
		TLSPin:    p.TLSPin,
		PinnedAt:  time.Now().UTC().Truncate(time.Second),
	}
	if pinned != nil {
		ps.PinnedAt = pinned.PinnedAt
	}
	// server.json goes last: until it is written, the device is not pinned.
	if err := opts.writeJSON(FileConfig, rr.Config); err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}
	if err := opts.writeFile(FileCredential, []byte(rr.DeviceCredential+"\n")); err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}
	if err := opts.writeJSON(FileServer, ps); err != nil {
		return nil, fmt.Errorf("activating: %w", err)
	}
	log.Debug("device activated", "server", p.Server, "key_id", keyID, "first_use", firstUse)
	return &Result{Config: rr.Config, Server: p.Server, KeyID: keyID, FirstUse: firstUse}, nil
}

// Refresh fetches the configuration again with the stored device credential
// (re-provisioning) and rewrites Dir/config.json. A revoked credential gives
// an error matching ErrUnauthorized; a device never activated, ErrNotActivated.
func Refresh(ctx context.Context, opts Options) (*Result, error) {
	log := opts.logger()
	if opts.Dir == "" {
		return nil, errors.New("refreshing configuration: Options.Dir is empty")
	}
	pinned, err := opts.loadServer()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("refreshing configuration: %w: no %s in %s", ErrNotActivated, FileServer, opts.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("refreshing configuration: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(opts.Dir, FileCredential))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("refreshing configuration: %w: no %s in %s", ErrNotActivated, FileCredential, opts.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("refreshing configuration: reading credential: %w", err)
	}
	cred := strings.TrimSpace(string(raw))
	if err := checkCredential(cred); err != nil {
		return nil, fmt.Errorf("refreshing configuration: stored %w", err)
	}

	if err := opts.checkScheme("the pinned server", pinned.Server); err != nil {
		return nil, fmt.Errorf("refreshing configuration: %w", err)
	}
	var cfg DeviceConfig
	status, err := opts.call(ctx, http.MethodGet, pinned.Server+ConfigPath, pinned.TLSPin, cred, nil, &cfg)
	if err != nil {
		log.Debug("configuration fetch failed", "server", pinned.Server, "status", status)
		return nil, fmt.Errorf("refreshing configuration from %s: %w", pinned.Server, err)
	}
	if err := opts.writeJSON(FileConfig, cfg); err != nil {
		return nil, fmt.Errorf("refreshing configuration: %w", err)
	}
	log.Debug("configuration refreshed", "server", pinned.Server, "key_id", pinned.KeyID, "username", cfg.Account.Username)
	return &Result{Config: cfg, Server: pinned.Server, KeyID: pinned.KeyID}, nil
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (o *Options) makeDir() error {
	if o.Dir == "" {
		return errors.New("Options.Dir is empty")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	return nil
}

// readSource returns the activation file's bytes and says where they came from.
func (o *Options) readSource(ctx context.Context, source string) ([]byte, string, error) {
	lower := strings.ToLower(source)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		f, err := os.Open(source)
		if err != nil {
			return nil, "", fmt.Errorf("opening activation file: %w", err)
		}
		defer f.Close()
		data, err := readCapped(f, provisioning.MaxActivationSize)
		if err != nil {
			return nil, "", fmt.Errorf("reading activation file %s: %w", source, err)
		}
		return data, "file", nil
	}

	u, err := activationURL(source)
	if err != nil {
		return nil, "", err
	}
	if err := o.checkScheme("the activation link", u.Scheme+"://"+u.Host); err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("fetching activation file from %s: %w", u.Host, redact(err))
	}
	req.Header.Set("Accept", activationMIME+", application/json;q=0.9, */*;q=0.1")
	req.Header.Set("User-Agent", o.appVersion())
	hc, done := o.baseClient()
	defer done()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("fetching activation file from %s: %w", u.Host, redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("fetching activation file from %s: %w", u.Host, apiError(resp))
	}
	data, err := readCapped(resp.Body, provisioning.MaxActivationSize)
	if err != nil {
		return nil, "", fmt.Errorf("fetching activation file from %s: %w", u.Host, redact(err))
	}
	return data, "url", nil
}

// activationURL turns a landing page URL into the activation file's URL and
// leaves the file's URL alone. Errors never quote the URL: it holds the token.
func activationURL(source string) (*url.URL, error) {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" {
		return nil, errors.New("activation link is not a valid URL")
	}
	u.Fragment, u.RawFragment = "", ""
	path := strings.TrimSuffix(u.Path, "/")
	segs := strings.Split(path, "/")
	n := len(segs)
	switch {
	case n >= 4 && segs[n-1] == "activation" && segs[n-3] == "a":
		u.Path = path
	case n >= 3 && segs[n-2] == "a":
		u.Path = path + "/activation"
	default:
		return nil, fmt.Errorf("activation link on %s is neither .../a/{token} nor .../a/{token}/activation", u.Host)
	}
	u.RawPath = ""
	return u, nil
}

// call makes one device API request and decodes a 200 answer into out. Any
// other answer is an *APIError. It returns the status it got, 0 if none.
func (o *Options) call(ctx context.Context, method, target, pin, credential string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, redact(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", o.appVersion())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	hc, done, err := o.apiClient(pin)
	if err != nil {
		return 0, err
	}
	defer done()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, redact(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, apiError(resp)
	}
	data, err := readCapped(resp.Body, maxConfigSize)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading answer: %w", redact(err))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("decoding answer: %w", err)
	}
	return resp.StatusCode, nil
}

// baseClient is the client for fetching the activation file: the caller's,
// or a default one with timeouts. done releases a default client's connections.
func (o *Options) baseClient() (*http.Client, func()) {
	if o.HTTPClient != nil {
		return o.HTTPClient, func() {}
	}
	tr := defaultTransport()
	return &http.Client{Transport: tr, Timeout: requestTimeout}, tr.CloseIdleConnections
}

// apiClient is the client for the device API. It never follows redirects, so
// the token and the credential go to the signed server URL only. With a pin,
// the server's leaf certificate must carry the pinned key; the CA chain and
// host name are then not checked, which is what lets a self-signed server be
// trusted. Without one, the usual verification applies.
func (o *Options) apiClient(pin string) (*http.Client, func(), error) {
	base, done := o.baseClient()
	c := *base
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if pin == "" {
		return &c, done, nil
	}
	var tr *http.Transport
	switch t := c.Transport.(type) {
	case nil:
		tr = defaultTransport()
	case *http.Transport:
		tr = t.Clone()
	default:
		done()
		return nil, nil, fmt.Errorf("cannot check the TLS pin: Options.HTTPClient.Transport is a %T, not an *http.Transport", t)
	}
	done()
	cfg := tr.TLSClientConfig
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	cfg.InsecureSkipVerify = true // replaced by VerifyConnection's pin check
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("%w: server sent no certificate", ErrTLSPinMismatch)
		}
		if got := provisioning.TLSPin(cs.PeerCertificates[0]); got != pin {
			return fmt.Errorf("%w: server key is %s, pinned %s", ErrTLSPinMismatch, got, pin)
		}
		return nil
	}
	tr.TLSClientConfig = cfg
	c.Transport = tr
	return &c, tr.CloseIdleConnections, nil
}

func defaultTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = requestTimeout
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return tr
}

func (o *Options) appVersion() string {
	if o.Device.AppVersion != "" {
		return o.Device.AppVersion
	}
	return AppVersion
}

// deviceInfo fills the zero fields of o.Device.
func (o *Options) deviceInfo() (DeviceInfo, error) {
	d := o.Device
	if d.ID == "" {
		id, err := o.deviceID()
		if err != nil {
			return d, err
		}
		d.ID = id
	}
	if d.Platform == "" {
		d.Platform = platformOf(runtime.GOOS)
	}
	if d.Model == "" {
		if h, err := os.Hostname(); err == nil {
			d.Model = h
		}
	}
	if d.AppVersion == "" {
		d.AppVersion = AppVersion
	}
	return d, nil
}

// deviceID reads Dir/device-id, creating it the first time, so the server
// sees one device across activations.
func (o *Options) deviceID() (string, error) {
	path := filepath.Join(o.Dir, FileDeviceID)
	raw, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(raw)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading device ID: %w", err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating device ID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // UUID version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	if err := o.writeFile(FileDeviceID, []byte(id+"\n")); err != nil {
		return "", err
	}
	return id, nil
}

// platformOf names the platform as the server knows them (model.Platforms).
func platformOf(goos string) string {
	if goos == "darwin" {
		return "macos"
	}
	if model.ValidPlatform(goos) {
		return goos
	}
	return "linux" // other Unix-like systems run the Linux build
}

// loadServer reads and checks Dir/server.json; fs.ErrNotExist means not pinned yet.
func (o *Options) loadServer() (*pinnedServer, error) {
	path := filepath.Join(o.Dir, FileServer)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading pinned server: %w", err)
	}
	var ps pinnedServer
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, fmt.Errorf("pinned server record %s is damaged: %w", path, err)
	}
	key, err := base64.RawURLEncoding.DecodeString(ps.PublicKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("pinned server record %s is damaged: bad public_key", path)
	}
	if err := provisioning.ValidateServerURL(ps.Server); err != nil {
		return nil, fmt.Errorf("pinned server record %s is damaged: server %w", path, err)
	}
	if ps.TLSPin != "" {
		if err := provisioning.ValidateTLSPin(ps.TLSPin); err != nil {
			return nil, fmt.Errorf("pinned server record %s is damaged: tls_pin %w", path, err)
		}
	}
	ps.KeyID = provisioning.KeyID(key)
	return &ps, nil
}

func (o *Options) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return o.writeFile(name, append(data, '\n'))
}

// writeFile replaces Dir/name atomically (temporary file, then rename) with
// mode 0600, so a crash leaves the old file or the new one, never half of one.
func (o *Options) writeFile(name string, data []byte) error {
	tmp, err := os.CreateTemp(o.Dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(o.Dir, name)); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// checkCredential makes sure a credential can travel in an Authorization header.
func checkCredential(c string) error {
	if c == "" {
		return errors.New("device credential is empty")
	}
	if len(c) > 512 {
		return errors.New("device credential is too long")
	}
	for i := 0; i < len(c); i++ {
		if c[i] <= ' ' || c[i] >= 0x7f {
			return errors.New("device credential holds characters a header cannot carry")
		}
	}
	return nil
}

// readCapped reads all of r, refusing more than limit bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// redact drops the URL a *url.Error quotes: an activation URL holds the token.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
