package console_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/web/console"
)

// pageShots names the screenshot of every page of the console's route
// table. TestConsoleInBrowser takes each one (and checks its phone layout);
// scripts/screenshots writes them to docs/screenshots.
var pageShots = map[string]string{
	"/console/login":                    "login",
	"/console/set-password/{token}":     "set-password",
	"/console/{$}":                      "dashboard",
	"/console/accounts":                 "accounts",
	"/console/accounts/new":             "account-form",
	"/console/accounts/{username}":      "account",
	"/console/accounts/{username}/edit": "account-edit",
	"/console/import":                   "import",
	"/console/imports/{id}":             "import-preview",
	"/console/outbox":                   "outbox",
	"/console/outbox/{id}":              "outbox-message",
	"/console/messages":                 "messages",
	"/console/groups":                   "groups",
	"/console/profiles":                 "profiles",
	"/console/profiles/{name}":          "profile",
	"/console/downloads":                "downloads",
	"/console/settings":                 "settings",
	"/console/operators":                "operators",
	"/console/tokens":                   "tokens",
	"/console/audit":                    "audit",
	"/console/gateways":                 "gateways",
	"/console/templates":                "templates",
	"/console/orgs":                     "orgs",
}

// notPages are the console's GET routes that answer something else than a page.
var notPages = map[string]bool{"/console/export/accounts.csv": true}

// shot records which pages the browser test has taken.
var shot map[string]bool

func screenshotFile(name, width string) string { return "console-" + name + "-" + width + ".png" }

// TestScreenshotsShowEveryPage keeps docs/screenshots current enough: every
// page of the route table has a desktop and a phone screenshot, no
// screenshot is of a page that is gone, and every one the README shows
// exists. A new page fails here until scripts/screenshots is run.
func TestScreenshotsShowEveryPage(t *testing.T) {
	cons, err := console.New(activation.Domain{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"landing-phone.png": true, "landing-desktop.png": true} // internal/web/pages
	for _, r := range cons.Routes() {
		if r.Method != "GET" || notPages[r.Path] {
			continue
		}
		name, ok := pageShots[r.Path]
		if !ok {
			t.Errorf("the page %s has no screenshot: name it in pageShots and run scripts/screenshots", r.Path)
			continue
		}
		want[screenshotFile(name, "desktop")], want[screenshotFile(name, "phone")] = true, true
	}
	files, err := filepath.Glob(filepath.Join(screenshotDir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Base(f)] = true
		if !want[filepath.Base(f)] {
			t.Errorf("docs/screenshots/%s shows no page of the console or the landing page: remove it", filepath.Base(f))
		}
	}
	for f := range want {
		if !have[f] {
			t.Errorf("docs/screenshots/%s is missing: run scripts/screenshots", f)
		}
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`docs/screenshots/([^)\s]+)`).FindAllStringSubmatch(string(readme), -1) {
		if !have[m[1]] {
			t.Errorf("the README shows docs/screenshots/%s, which does not exist", m[1])
		}
	}
	if strings.Contains(string(readme), "written by the browser test") {
		t.Error("the README still says the browser test writes the screenshots")
	}
}
