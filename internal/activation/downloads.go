package activation

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Downloads keeps the application download URLs the landing pages offer,
// per platform and security model. The pages read them through Settings'
// cache, which every change here refreshes.
type Downloads struct {
	store    *store.Store
	settings *Settings
}

// NewDownloads returns the download URLs of the organisations in st.
func NewDownloads(st *store.Store, settings *Settings) *Downloads {
	return &Downloads{store: st, settings: settings}
}

// List lists the caller's organisation's download URLs.
func (d *Downloads) List(ctx context.Context, by Caller) ([]model.AppURL, error) {
	return d.store.AppURLs(ctx, by.OrgID)
}

// Set sets the download URL of a platform, for one security model or, with
// an empty model, as the platform's fallback.
func (d *Downloads) Set(ctx context.Context, a model.AppURL, by Caller) (*model.AppURL, error) {
	if err := d.Check(a); err != nil {
		return nil, err
	}
	err := d.store.Tx(ctx, func(tx *store.Tx) error { return tx.PutAppURL(ctx, by.OrgID, a) })
	if err != nil {
		return nil, fmt.Errorf("storing download URL: %w", err)
	}
	d.settings.invalidate(by.OrgID)
	return &a, nil
}

// Check validates a download URL without storing it, so a form setting
// several URLs can check them all before it stores any.
func (d *Downloads) Check(a model.AppURL) error {
	if err := validPlatform("platform", a.Platform); err != nil {
		return err
	}
	if a.SecurityModel != "" && !a.SecurityModel.Valid() {
		return invalid("security_model", "unknown security model %q: want end-to-end or end-to-site, or none for the platform's fallback", a.SecurityModel)
	}
	if err := checkLine("url", "the URL", a.URL, true, 2000); err != nil {
		return err
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid("url", "want an absolute http(s) URL to the download or the store page")
	}
	return nil
}

// Delete removes a download URL.
func (d *Downloads) Delete(ctx context.Context, platform string, m model.SecurityModel, by Caller) error {
	if err := validPlatform("platform", platform); err != nil {
		return err
	}
	err := d.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteAppURL(ctx, by.OrgID, platform, m) })
	if errors.Is(err, store.ErrNotFound) {
		return notFound("app_not_found", "no download URL for %s %s", platform, m)
	}
	d.settings.invalidate(by.OrgID)
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
