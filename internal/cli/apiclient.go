package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// apiPrefix is where the admin API lives under the server's base URL.
const apiPrefix = "/api/v1"

// maxResponseBytes bounds what the CLI reads from one answer.
const maxResponseBytes = 32 << 20

// apiClient is a small client for activator's admin API. Its requests are
// built by getJSON, writeJSON and writeOnly: each returns the decoded answer
// and the raw JSON the server sent, so `-o json` prints exactly what the API
// said.
type apiClient struct {
	base  *url.URL // server base URL, without /api/v1
	token string
	// org is the organisation a provider admin acts inside (--org), sent
	// as the Activator-Org header; empty: the token's own.
	org  string
	http *http.Client
}

// authorize puts the token, and the organisation acted inside, on req.
func (c *apiClient) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.org != "" {
		req.Header.Set("Activator-Org", c.org)
	}
}

// newAPIClient checks baseURL and returns a client that authenticates with token.
func newAPIClient(baseURL, token string) (*apiClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("parsing server URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q: want an http:// or https:// URL", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server URL %q has no host", baseURL)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return &apiClient{base: u, token: token, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// apiError is an error answer of the API, as model.ErrorBody describes it.
type apiError struct {
	Status int
	Body   model.APIError
}

// Error reads "<message> (field <field>)", the form operators see.
func (e *apiError) Error() string {
	msg := e.Body.Message
	if msg == "" {
		msg = e.Body.Code
	}
	if msg == "" {
		msg = fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Body.Field != "" {
		msg += " (field " + e.Body.Field + ")"
	}
	return msg
}

// redact removes the token from s, so no message can carry it to a terminal or a log.
func (c *apiClient) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "***")
}

// call sends one request and decodes a JSON answer into out (when out is not
// nil). It returns the raw answer, empty for 204.
func (c *apiClient) call(ctx context.Context, method, path string, query url.Values, in, out any) (json.RawMessage, error) {
	// path is already escaped segment by segment (see seg), so a name holding
	// a slash stays one segment.
	u := *c.base
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + apiPrefix + path
	unescaped, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("building path of %s %s: %w", method, path, err)
	}
	u.Path = unescaped
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding request for %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("building request %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, errors.New(c.redact(fmt.Sprintf("calling %s %s: %v", method, u.Redacted(), err)))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return nil, c.errorFrom(resp.StatusCode, raw)
	}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	if out != nil {
		if err := decodeFresh(raw, out); err != nil {
			return nil, fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
		}
	}
	return raw, nil
}

// decodeFresh decodes raw into out (a pointer) as a value of its own:
// json.Unmarshal leaves a field the answer omits as it was, and the
// answers omit empty fields (last_error, say), so a command polling a
// job into one value kept an error its job had since got over, and
// reported it once the job was done.
func decodeFresh(raw []byte, out any) error {
	if v := reflect.ValueOf(out); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
	return json.Unmarshal(raw, out)
}

// errorFrom turns an error answer into an *apiError, with the token redacted.
func (c *apiClient) errorFrom(status int, raw []byte) error {
	var eb model.ErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil || (eb.Error.Message == "" && eb.Error.Code == "") {
		text := strings.TrimSpace(string(raw))
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		eb.Error = model.APIError{Message: fmt.Sprintf("server answered %d %s", status, http.StatusText(status))}
		if text != "" && !strings.HasPrefix(text, "<") {
			eb.Error.Message += ": " + text
		}
	}
	eb.Error.Message = c.redact(eb.Error.Message)
	eb.Error.Field = c.redact(eb.Error.Field)
	eb.Error.Code = c.redact(eb.Error.Code)
	return &apiError{Status: status, Body: eb.Error}
}

// seg escapes one path segment (a name, a username, a key).
func seg(s string) string { return "/" + url.PathEscape(s) }

// apiCall is one request to the admin API, ready to send with a client.
type apiCall[T any] func(ctx context.Context, c *apiClient) (T, json.RawMessage, error)

// getJSON reads path (with query, when it is not empty) and decodes the
// answer into a T.
func getJSON[T any](path string, query url.Values) apiCall[T] {
	return func(ctx context.Context, c *apiClient) (T, json.RawMessage, error) {
		var v T
		raw, err := c.call(ctx, http.MethodGet, path, query, nil, &v)
		return v, raw, err
	}
}

// writeJSON sends a request that changes something, with in as the JSON
// body (nil: no body), and decodes the answer into a T.
func writeJSON[T any](method, path string, in any) apiCall[T] {
	return func(ctx context.Context, c *apiClient) (T, json.RawMessage, error) {
		var v T
		raw, err := c.call(ctx, method, path, nil, in, &v)
		return v, raw, err
	}
}

// writeOnly sends a request that changes something and whose answer has
// nothing to show (the API answers 204): nothing is decoded and no raw JSON
// is returned.
func writeOnly(method, path string, query url.Values, in any) apiCall[struct{}] {
	return func(ctx context.Context, c *apiClient) (struct{}, json.RawMessage, error) {
		_, err := c.call(ctx, method, path, query, in, nil)
		return struct{}{}, nil, err
	}
}

// The list answers: each wraps its items in one field. They are aliases of
// unnamed structs, so an error decoding a malformed answer names no type of
// the command line's own.
type (
	groupList = struct {
		Groups []model.Group `json:"groups"`
	}
	profileList = struct {
		Profiles []model.Profile `json:"profiles"`
	}
	appList = struct {
		Apps []model.AppURL `json:"apps"`
	}
	settingList = struct {
		Settings []model.Setting `json:"settings"`
	}
	accountList = struct {
		Accounts []model.Account `json:"accounts"`
		model.Cursors
		Total *int `json:"total,omitempty"`
	}
	messageList = struct {
		Messages []model.Message `json:"messages"`
		model.Cursors
	}
	outboxList = struct {
		Outbox []model.OutboxItem `json:"outbox"`
		model.Cursors
	}
	gatewayList = struct {
		Gateways []model.Gateway `json:"gateways"`
	}
	gatewayKindList = struct {
		Kinds []model.GatewayKind `json:"kinds"`
	}
	operatorList = struct {
		Operators []model.Operator `json:"operators"`
	}
	tokenList = struct {
		Tokens []model.APIToken `json:"tokens"`
	}
)

// Profiles.

// profileInput is the body of POST and PATCH /profiles: Settings is a
// partial ProfileSettings object the server merges.
type profileInput struct {
	Name     *string        `json:"name,omitempty"`
	Settings map[string]any `json:"settings,omitzero"` // nil: not sent; empty: {}
}

// Accounts.

// accountFilter narrows GET /accounts; zero fields are not sent.
type accountFilter struct {
	Group, Status, Query string
	Limit, Offset        int
	HasLimit, HasOffset  bool
	Cursor               string
}

func (f accountFilter) values() url.Values {
	q := url.Values{}
	if f.Group != "" {
		q.Set("group", f.Group)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	if f.HasLimit {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.HasOffset {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	return q
}

// revokeCount is the answer of the revoke endpoints.
type revokeCount struct {
	Revoked int `json:"revoked"`
}
