package dashboard

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
)

// preForm is the data of a form shown before a login, with its CSRF token.
type preForm struct {
	Token  string // the double-submit token
	Email  string
	Next   string
	Setup  string // the set-up token
	Errors formErrors
}

func (p preForm) csrf() string { return p.Token }

// preToken returns the pre-login CSRF token of the browser, setting one when
// it has none.
func (d *Dashboard) preToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	t := ids.Random(32)
	d.setCookie(w, r, preCookie, t, 12*time.Hour)
	return t
}

// checkPre compares the form's token with the cookie's.
func checkPre(r *http.Request) bool {
	ck, err := r.Cookie(preCookie)
	form := r.PostForm.Get("csrf")
	return err == nil && form != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) == 1
}

// safeNext keeps a post-login destination inside the dashboard.
func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix) && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/app/links"
}

func (d *Dashboard) setupForm(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	ok, err := d.Accounts.SetupValid(r.Context(), tok)
	if err != nil {
		return err
	}
	if !ok {
		return errs.NotFound("this set-up address was used already or has expired. Log in, or create an account with `codeqr users create --email you@example.com`.")
	}
	return d.ok(w, r, nil, "setup", "Create the owner account", "", preForm{Token: d.preToken(w, r), Setup: tok})
}

func (d *Dashboard) setup(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.BadInput("unreadable form")
	}
	if !checkPre(r) {
		return forbidden("this form has expired; reload the page and try again")
	}
	f := preForm{Token: d.preToken(w, r), Setup: r.PostForm.Get("token"), Email: r.PostForm.Get("email")}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("password2") {
		f.Errors = formErrors{Fields: map[string]string{"password2": "the two passwords differ"}}
		d.render(w, r, nil, http.StatusUnprocessableEntity, "setup", "Create the owner account", "", f)
		return nil
	}
	clear, _, err := d.Accounts.CompleteSetup(r.Context(), f.Setup, f.Email, pw)
	if err != nil {
		if f.Errors, err = fieldErrors(err, "email", "password"); err != nil {
			return err
		}
		d.render(w, r, nil, statusOf(f.Errors.err), "setup", "Create the owner account", "", f)
		return nil
	}
	d.setCookie(w, r, sessionCookie, clear, accounts.SessionTTL)
	return redirect(w, r, "/app/links", "welcome")
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) error {
	return d.ok(w, r, nil, "login", "Log in", "", preForm{Token: d.preToken(w, r), Next: r.URL.Query().Get("next")})
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.BadInput("unreadable form")
	}
	if !checkPre(r) {
		return forbidden("this form has expired; reload the page and try again")
	}
	f := preForm{Token: d.preToken(w, r), Email: r.PostForm.Get("email"), Next: r.PostForm.Get("next")}
	if !d.limiter.allow("ip:"+clientHost(r)) || !d.limiter.allow("email:"+accounts.NormalizeEmail(f.Email)) {
		f.Errors = formErrors{General: "Too many log-in attempts. Wait a minute and try again."}
		d.render(w, r, nil, http.StatusTooManyRequests, "login", "Log in", "", f)
		return nil
	}
	u, err := d.Accounts.Authenticate(r.Context(), f.Email, r.PostForm.Get("password"))
	if err != nil {
		if errs.KindOf(err) != errs.KindInvalid {
			return err
		}
		f.Errors = formErrors{General: "Wrong e-mail or password."}
		d.render(w, r, nil, http.StatusUnauthorized, "login", "Log in", "", f)
		return nil
	}
	clear, _, err := d.Accounts.Login(r.Context(), u)
	if err != nil {
		return err
	}
	d.setCookie(w, r, sessionCookie, clear, accounts.SessionTTL)
	return redirect(w, r, safeNext(f.Next), "")
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if err := d.Accounts.Logout(r.Context(), c.Session); err != nil {
		return err
	}
	d.clearCookie(w, r, sessionCookie)
	return redirect(w, r, "/app/login", "")
}

type accountData struct {
	Errors formErrors
}

func (d *Dashboard) account(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	return d.ok(w, r, c, "account", "Your account", "", accountData{})
}

func (d *Dashboard) changePassword(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := r.PostForm
	var data accountData
	if f.Get("new") != f.Get("new2") {
		data.Errors = formErrors{Fields: map[string]string{"new2": "the two new passwords differ"}}
		d.render(w, r, c, http.StatusUnprocessableEntity, "account", "Your account", "", data)
		return nil
	}
	err := d.Accounts.ChangePassword(r.Context(), c.Session, f.Get("current"), f.Get("new"))
	if err != nil {
		var ferr error
		if data.Errors, ferr = fieldErrors(err, "current", "new"); ferr != nil {
			return ferr
		}
		d.render(w, r, c, statusOf(err), "account", "Your account", "", data)
		return nil
	}
	return redirect(w, r, "/app/account", "password-changed")
}

func (d *Dashboard) switchProject(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if err := d.Accounts.SwitchProject(r.Context(), c.Session, r.PostForm.Get("project")); err != nil {
		return err
	}
	return redirect(w, r, "/app/links", "switched")
}

type projectForm struct {
	Slug, Name string
	Errors     formErrors
}

func (d *Dashboard) newProjectForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	return d.ok(w, r, c, "project_new", "Create a project", "", projectForm{})
}

func (d *Dashboard) createProject(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := projectForm{Slug: r.PostForm.Get("slug"), Name: r.PostForm.Get("name")}
	_, err := d.Accounts.CreateProject(r.Context(), c.Session, f.Slug, f.Name)
	if err != nil {
		var ferr error
		if f.Errors, ferr = fieldErrors(err, "slug", "name"); ferr != nil {
			return ferr
		}
		d.render(w, r, c, statusOf(err), "project_new", "Create a project", "", f)
		return nil
	}
	return redirect(w, r, "/app/links", "project-created")
}

// clientHost is the remote address without its port (the rate limit key;
// behind a proxy all clients share it, which errs on the safe side).
func clientHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// limiter allows a burst of log-in attempts per key (client address, e-mail)
// and then one every few seconds. It forgets keys once it holds too many,
// which is safe: an attacker cannot grow it without bound.
type limiter struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*rate.Limiter
}

const (
	loginBurst   = 10
	loginRefill  = 6 * time.Second
	maxLimitKeys = 10000
)

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, keys: map[string]*rate.Limiter{}}
}

func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxLimitKeys {
			l.keys = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(rate.Every(loginRefill), loginBurst)
		l.keys[key] = lim
	}
	return lim.AllowN(l.now(), 1)
}
