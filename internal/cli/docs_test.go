package cli

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/activator-voip/activator/internal/model"
)

// TestConfigurationDocMatchesTheCode keeps docs/configuration.md honest: every
// serve flag with its environment variable, every setting and every profile
// field must be in it.
func TestConfigurationDocMatchesTheCode(t *testing.T) {
	raw, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	serve := newServeCmd(&globals{})
	n := 0
	serve.Flags().VisitAll(func(f *pflag.Flag) {
		n++
		if !strings.Contains(doc, "`--"+f.Name+"`") {
			t.Errorf("serve flag --%s is not documented", f.Name)
		}
		// A default the code has is the one the table gives (the lease and
		// the grace period are what operators size their timeouts by).
		if f.DefValue != "" {
			if row := "| `--" + f.Name + "` | "; strings.Contains(doc, row) {
				rest := doc[strings.Index(doc, row)+len(row):]
				cols := strings.SplitN(rest, " | ", 3)
				if len(cols) < 2 || cols[1] != "`"+f.DefValue+"`" {
					t.Errorf("serve flag --%s defaults to %q; docs/configuration.md says %q", f.Name, f.DefValue, cols[min(1, len(cols)-1)])
				}
			}
		}
		env := f.Usage[strings.LastIndex(f.Usage, "[")+1 : len(f.Usage)-1]
		if !strings.HasPrefix(env, "ACTIVATOR_") || !strings.Contains(doc, "`"+env+"`") {
			t.Errorf("environment variable %q of --%s is not documented", env, f.Name)
		}
	})
	if n < 8 {
		t.Fatalf("found only %d serve flags", n)
	}
	for _, d := range model.SettingDefs {
		if !strings.Contains(doc, "| `"+d.Key+"` |") {
			t.Errorf("setting %s is not documented", d.Key)
		}
	}
	for _, f := range profileFields(reflect.TypeOf(model.ProfileSettings{}), "") {
		if !strings.Contains(doc, "`"+f) {
			t.Errorf("profile field %s is not documented", f)
		}
	}
}

// profileFields lists the dotted JSON paths of a settings struct; maps stop
// the walk (their keys are free or documented as a pattern).
func profileFields(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			out = append(out, profileFields(f.Type, prefix+name+".")...)
			continue
		}
		out = append(out, prefix+name)
	}
	return out
}
