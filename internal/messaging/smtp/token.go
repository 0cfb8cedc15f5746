package smtp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
)

// TokenSource gives XOAUTH2 access tokens: a static one, or one fetched with
// an OAuth2 refresh token and cached until a minute before it expires.
type TokenSource struct {
	Static                                         string
	ClientID, ClientSecret, RefreshToken, TokenURL string
	HTTP                                           *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Token returns a valid access token.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	if s.Static != "" {
		return s.Static, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && time.Now().Before(s.expires) {
		return s.token, nil
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.RefreshToken}, "client_id": {s.ClientID}, "client_secret": {s.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, "POST", s.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", messaging.Permanent(fmt.Errorf("oauth token URL: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return "", messaging.NetworkError("oauth token", err)
	}
	defer resp.Body.Close()
	body := messaging.ReadBody(resp)
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &t)
	if resp.StatusCode != 200 || t.AccessToken == "" {
		return "", messaging.StatusError("oauth token", resp, strings.TrimSpace(t.Error+" "+t.Description))
	}
	if t.ExpiresIn <= 0 {
		t.ExpiresIn = 3600
	}
	s.token, s.expires = t.AccessToken, time.Now().Add(time.Duration(t.ExpiresIn)*time.Second-time.Minute)
	return s.token, nil
}
