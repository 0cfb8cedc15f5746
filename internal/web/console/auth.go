package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/activator-voip/activator/internal/activation"
)

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, p *Page) error {
	p.Title, p.Flash = "Log in", flashOf(r)
	p.Form = r.URL.Query()
	c.render(w, http.StatusOK, "login", p)
	return nil
}

// safeNext keeps a post-login redirect inside the console.
func safeNext(v string) string {
	if strings.HasPrefix(v, "/console/") && !strings.HasPrefix(v, "//") && !strings.Contains(v, "\\") {
		return v
	}
	return "/console/"
}

func (c *Console) setSession(w http.ResponseWriter, r *http.Request, l *activation.Login) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: l.Token, Path: "/console/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secureCookies(r), Expires: l.Expires.Add(activation.SessionMax)})
}

// loginOrg is the organisation the login form at r's host logs into: the
// one whose public base URL is at that host, else the provider's own.
func (c *Console) loginOrg(r *http.Request) (int64, error) {
	org, _, err := c.dom.Settings.OrgOfHost(r.Context(), r.Host)
	return org, err
}

func (c *Console) login(w http.ResponseWriter, r *http.Request, p *Page) error {
	p.Title, p.Form = "Log in", r.PostForm
	name := strings.TrimSpace(r.PostFormValue("name"))
	loginOrg, err := c.loginOrg(r)
	if err != nil {
		return err
	}
	l, err := c.dom.Access.Login(r.Context(), loginOrg, name, r.PostFormValue("password"), r.RemoteAddr)
	status := http.StatusOK
	if err == nil {
		status = http.StatusSeeOther
	}
	logged := activation.BoundedName(name) // a failure keeps no more of what was typed
	if err == nil {
		logged = l.Operator.Name
	}
	c.audit.Record(r, activation.Caller{Name: logged, OrgID: loginOrg}, "POST", "/console/login", "session", logged, map[bool]int{true: status, false: http.StatusUnauthorized}[err == nil])
	if err != nil {
		var de *activation.Error
		if errors.As(err, &de) && (de.Kind == activation.KindUnauthorized || de.Kind == activation.KindForbidden) {
			p.Error = de.Message
			c.render(w, http.StatusUnauthorized, "login", p)
			return nil
		}
		return err
	}
	c.setSession(w, r, l)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, p *Page) error {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.dom.Access.Logout(r.Context(), ck.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secureCookies(r)})
	redirect(w, r, "/console/login", flashLoggedOut)
	return nil
}

func (c *Console) setPasswordForm(w http.ResponseWriter, r *http.Request, p *Page) error {
	o, err := c.dom.Access.PasswordLinkOperator(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	p.Title, p.Data = "Set your password", o
	c.render(w, http.StatusOK, "set_password", p)
	return nil
}

func (c *Console) setPassword(w http.ResponseWriter, r *http.Request, p *Page) error {
	tok := r.PathValue("token")
	o, err := c.dom.Access.PasswordLinkOperator(r.Context(), tok)
	if err != nil {
		return err
	}
	p.Title, p.Data = "Set your password", o
	pw, again := r.PostFormValue("password"), r.PostFormValue("password2")
	if pw != again {
		p.Fields["password2"] = "the two passwords differ"
		c.render(w, http.StatusBadRequest, "set_password", p)
		return nil
	}
	l, err := c.dom.Access.SetPassword(r.Context(), tok, pw)
	if err != nil {
		if fieldError(p, err) == nil {
			c.render(w, http.StatusBadRequest, "set_password", p)
			return nil
		}
		return err
	}
	c.audit.Record(r, l.Caller, "POST", "/console/set-password/{token}", "operator", o.Name, http.StatusSeeOther)
	c.setSession(w, r, l)
	redirect(w, r, "/console/", flashPasswordSet)
	return nil
}
