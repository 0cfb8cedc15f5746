package activation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Apps lists the download URLs.
func (s *Service) Apps(ctx context.Context) ([]model.AppURL, error) {
	return s.store.AppURLs(ctx, s.org)
}

// SetApp sets the download URL of a platform, for one security model or, with
// an empty model, as the platform's fallback.
func (s *Service) SetApp(ctx context.Context, a model.AppURL) (*model.AppURL, error) {
	if err := s.CheckApp(a); err != nil {
		return nil, err
	}
	err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.PutAppURL(ctx, s.org, a) })
	if err != nil {
		return nil, fmt.Errorf("storing download URL: %w", err)
	}
	s.cache.invalidate()
	return &a, nil
}

// CheckApp validates a download URL without storing it, so a form setting
// several URLs can check them all before it stores any.
func (s *Service) CheckApp(a model.AppURL) error {
	if !model.ValidPlatform(a.Platform) {
		return invalid("platform", "unknown platform %q: want one of %s", a.Platform, strings.Join(model.Platforms, ", "))
	}
	if a.SecurityModel != "" && !a.SecurityModel.Valid() {
		return invalid("security_model", "unknown security model %q: want end-to-end or end-to-site, or none for the platform's fallback", a.SecurityModel)
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(a.URL) > 2000 {
		return invalid("url", "want an absolute http(s) URL to the download or the store page")
	}
	return nil
}

// DeleteApp removes a download URL.
func (s *Service) DeleteApp(ctx context.Context, platform string, m model.SecurityModel) error {
	if !model.ValidPlatform(platform) {
		return invalid("platform", "unknown platform %q: want one of %s", platform, strings.Join(model.Platforms, ", "))
	}
	err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteAppURL(ctx, s.org, platform, m) })
	if errors.Is(err, store.ErrNotFound) {
		return notFound("app_not_found", "no download URL for %s %s", platform, m)
	}
	s.cache.invalidate()
	return err
}

// downloadURL picks the URL for a platform and security model, falling back
// to the platform's URL for any model.
func downloadURL(apps []model.AppURL, platform string, m model.SecurityModel) string {
	fallback := ""
	for _, a := range apps {
		if a.Platform != platform {
			continue
		}
		if a.SecurityModel == m {
			return a.URL
		}
		if a.SecurityModel == "" {
			fallback = a.URL
		}
	}
	return fallback
}
