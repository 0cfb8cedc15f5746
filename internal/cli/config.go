package cli

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The configuration file (--config FILE, docs/configuration.md): a TOML
// file whose keys are the flags of `activator serve`, without their dashes:
//
//	data = "/var/lib/activator"
//	listen = "0.0.0.0:8443"
//	max-attempts = 8
//	trusted-proxies = ["10.0.0.0/8", "192.0.2.7"]
//
// A value is a string, a whole number or a list of strings (joined with
// commas, as the flag takes them). A flag on the command line wins over its
// environment variable, which wins over the file, which wins over the
// default. TOML, not YAML: its strings are always strings, while YAML
// reads `off` (the value that turns a SIP transport off) as false and
// `5:30` as a number.

const (
	configFlag = "config"
	envConfig  = "ACTIVATOR_CONFIG"
)

// configFile is a configuration file, read: its values by key.
type configFile struct {
	path   string
	values map[string]string
}

// readConfigFile reads path, refusing a key that is not in known (the
// serve flags' names) and a value that is not a string, a number or a list
// of strings, each error naming the key.
func readConfigFile(path string, known map[string]bool) (*configFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration file: %w", err)
	}
	var doc map[string]any
	if _, err := toml.Decode(string(raw), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("configuration file %s: line %d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	c := &configFile{path: path, values: map[string]string{}}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] {
			return nil, fmt.Errorf("configuration file %s: unknown key %q: the keys are the flags of activator serve without their dashes (activator serve --help)", path, k)
		}
		v, err := configValue(doc[k])
		if err != nil {
			return nil, fmt.Errorf("configuration file %s: key %q: %w", path, k, err)
		}
		c.values[k] = v
	}
	return c, nil
}

func configValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return "", fmt.Errorf("want a list of strings, found %T in it", e)
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("want a string, a whole number or a list of strings, not %T", v)
}

// addConfigFlag gives cmd the --config flag.
func addConfigFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, configFlag, "", "TOML file whose keys are serve's flags (docs/configuration.md); a flag or an environment variable wins over it ["+envConfig+"]")
}

// settle gives every flag in flags not set on cmd's command line its
// value from the environment, else from the configuration file named by
// --config or ACTIVATOR_CONFIG, else leaves its default.
func settle(cmd *cobra.Command, a *globals, flags []serveFlag, configPath string) error {
	if !cmd.Flags().Changed(configFlag) {
		configPath = a.env.getenv(envConfig)
	}
	var file *configFile
	if configPath != "" {
		known := map[string]bool{}
		for _, f := range serveFlagNames(a) {
			known[f] = true
		}
		var err error
		if file, err = readConfigFile(configPath, known); err != nil {
			return err
		}
	}
	for _, f := range flags {
		if cmd.Flags().Changed(f.name) {
			continue
		}
		if v := a.env.getenv(f.env); v != "" {
			*f.target = v
		} else if v, ok := file.value(f.name); ok {
			*f.target = v
		}
	}
	return nil
}

func (c *configFile) value(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	v, ok := c.values[key]
	return v, ok
}

// serveFlagNames are the keys a configuration file may hold: serve's
// flags, whichever command reads the file.
func serveFlagNames(a *globals) []string {
	var names []string
	newServeCmd(&globals{env: a.env}).Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != configFlag {
			names = append(names, f.Name)
		}
	})
	return names
}
