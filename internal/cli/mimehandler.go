package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
)

// DesktopEntryName is the .desktop file register-handler installs.
const DesktopEntryName = "activator-activation.desktop"

func newRegisterHandlerCmd(a *globals) *cobra.Command {
	var dir, mimeType, ext, dataHome, self string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "register-handler --dir DIR",
		Short: "Make the desktop open downloaded activation files with this client",
		Long: `Teach a Linux desktop (freedesktop.org shared-mime-info and desktop
entries) the activation file's MIME type, by its file extension and by its
content, and install a desktop entry that handles it by running
"activator device activate FILE --dir DIR". Opening a downloaded activation
file then activates the account, as the spec asks of a client.

Files go under $XDG_DATA_HOME (default ~/.local/share): mime/packages/ and
applications/. The MIME database is rebuilt with update-mime-database, and
the entry becomes the type's default application (xdg-mime default).`,
		Example: `  activator device register-handler --dir ~/.config/voip
  xdg-mime query filetype ~/Downloads/maria.activation`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if dir, err = filepath.Abs(dir); err != nil {
				return err
			}
			if dataHome == "" {
				dataHome = os.Getenv("XDG_DATA_HOME")
			}
			if dataHome == "" {
				home, err := os.UserHomeDir()
				if err != nil {
					return fmt.Errorf("finding the home folder: %w", err)
				}
				dataHome = filepath.Join(home, ".local", "share")
			}
			if self == "" {
				if self, err = os.Executable(); err != nil {
					return fmt.Errorf("finding this program: %w", err)
				}
			}
			mimeDir, appDir := filepath.Join(dataHome, "mime"), filepath.Join(dataHome, "applications")
			for _, d := range []string{filepath.Join(mimeDir, "packages"), appDir} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			pkg := filepath.Join(mimeDir, "packages", "activator-activation.xml")
			if err := os.WriteFile(pkg, []byte(mimePackage(mimeType, ext)), 0o644); err != nil {
				return err
			}
			entry := filepath.Join(appDir, DesktopEntryName)
			if err := os.WriteFile(entry, []byte(desktopEntry(self, dir, mimeType, insecure)), 0o644); err != nil {
				return err
			}
			if out, err := exec.CommandContext(cmd.Context(), "update-mime-database", mimeDir).CombinedOutput(); err != nil {
				return fmt.Errorf("update-mime-database %s: %v: %s", mimeDir, err, strings.TrimSpace(string(out)))
			}
			if _, err := exec.LookPath("update-desktop-database"); err == nil {
				_ = exec.CommandContext(cmd.Context(), "update-desktop-database", appDir).Run()
			}
			if out, err := exec.CommandContext(cmd.Context(), "xdg-mime", "default", DesktopEntryName, mimeType).CombinedOutput(); err != nil {
				return fmt.Errorf("xdg-mime default: %v: %s", err, strings.TrimSpace(string(out)))
			}
			p := a.printer(cmd)
			if p.json {
				return p.value(map[string]string{"mime_type": mimeType, "mime_package": pkg, "desktop_entry": entry, "dir": dir})
			}
			p.line("registered %s (*.%s) with %s", mimeType, ext, entry)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "folder the activated configuration goes to")
	f.StringVar(&mimeType, "mime-type", provisioning.DefaultActivationMIMEType, "the activation file's MIME type (the server's activation_mime_type setting)")
	f.StringVar(&ext, "extension", provisioning.DefaultActivationFileExt, "the activation file's extension, without the dot (activation_file_extension)")
	f.StringVar(&dataHome, "data-home", "", "where the MIME package and the desktop entry go (default $XDG_DATA_HOME or ~/.local/share)")
	f.StringVar(&self, "exec", "", "the activator program the desktop entry runs (default: this one)")
	f.BoolVar(&insecure, "insecure", false, "for development: the handler accepts a server on plain http")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

// mimePackage is the shared-mime-info package of the activation file: its
// extension, and its content (the "format" member near the start).
func mimePackage(mimeType, ext string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="` + xmlEscape(mimeType) + `">
    <comment>Secure phone activation</comment>
    <sub-class-of type="application/json"/>
    <glob pattern="*.` + xmlEscape(ext) + `" weight="80"/>
    <magic priority="80">
      <match type="string" value="&quot;` + provisioning.ActivationFormat + `&quot;" offset="0:64"/>
    </magic>
  </mime-type>
</mime-info>
`
}

// desktopEntry runs the activation on a file given by the desktop.
func desktopEntry(self, dir, mimeType string, insecure bool) string {
	flags := ""
	if insecure {
		flags = " --insecure"
	}
	return "[Desktop Entry]\nType=Application\nName=Secure phone activation\nComment=Activate this device from a downloaded activation file\n" +
		"Exec=" + desktopQuote(self) + " device activate %f --dir " + desktopQuote(dir) + flags + "\n" +
		"MimeType=" + mimeType + ";\nNoDisplay=true\nTerminal=false\n"
}

// desktopQuote quotes an Exec argument as the Desktop Entry specification says.
func desktopQuote(s string) string {
	if !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", `$`, `\\$`)
	return `"` + r.Replace(s) + `"`
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// printRegistrations lists an account's live SIP bindings.
func printRegistrations(p *printer, regs []model.Registration) error {
	rows := make([][]string, len(regs))
	for i, r := range regs {
		rows[i] = []string{r.Contact, r.Transport, r.Source, r.UserAgent, fmtTime(r.UpdatedAt), fmtTime(r.ExpiresAt)}
	}
	return writeTable(p.w, "  ", []string{"CONTACT", "TRANSPORT", "FROM", "USER AGENT", "REGISTERED", "EXPIRES"}, rows)
}
