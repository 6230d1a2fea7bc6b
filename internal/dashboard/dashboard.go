// Package dashboard is the web UI at /app/: server-rendered HTML
// (html/template), with templates, styles and a few small scripts embedded in
// the binary, so there is no build step and every read works without
// JavaScript.
//
// Every screen calls the same domain services as the REST API (links,
// webhooks, analytics …): there is no second copy of validation or SQL here.
// A validation error of a service is shown next to the form field it names.
//
// Security: a strict Content-Security-Policy (scripts only from /app/static,
// no inline script, frame-ancestors 'none'); sessions are server-side
// (internal/accounts) with HttpOnly, SameSite=Lax cookies, Secure on https;
// every state-changing form carries the session's CSRF token; login attempts
// are rate-limited. The session cookie never authorises /api requests: those
// take an API key only.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/webhooks"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the dashboard lives on the default host.
const Prefix = "/app/"

// Cookie names.
const (
	sessionCookie = "codeqr_session"
	// preCookie carries the CSRF token of the forms shown before a login
	// (log in, set up), compared with the form's copy (double submit).
	preCookie = "codeqr_pre"
)

// Deps are the services the dashboard calls: the same ones as the API.
type Deps struct {
	Logger      *slog.Logger
	Config      config.Config
	Accounts    *accounts.Service
	Projects    *projects.Service
	Tags        *tags.Service
	Links       *links.Service
	QRCodes     *qrcodes.Service
	Pages       *pages.Service
	Domains     *domains.Service
	Webhooks    *webhooks.Service
	Analytics   *analytics.Service
	Conversions *conversions.Service // nil hides customers
	Partners    *partners.Service
	// Now is the clock of the login rate limit (nil: time.Now).
	Now func() time.Time
}

// Dashboard serves /app/.
type Dashboard struct {
	Deps
	logger  *slog.Logger
	pages   map[string]*template.Template
	limiter *limiter
	csp     string
}

// New parses the templates and returns the dashboard.
func New(d Deps) (*Dashboard, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	db := &Dashboard{Deps: d, logger: d.Logger, pages: map[string]*template.Template{},
		limiter: newLimiter(d.Now)}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", f)
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", name, err)
		}
		db.pages[name] = t
	}
	// Images: our own, data: URLs and the QR renderer of the short domain.
	img := "'self' data:"
	if u, err := url.Parse(d.Config.BaseURL); err == nil && u.Host != "" {
		img += " " + u.Scheme + "://" + u.Host
	}
	db.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return db, nil
}

// SetupURL is the address printed on first start: base is the dashboard's
// origin (the base URL, or the --dashboard-host).
func SetupURL(base, token string) string {
	return strings.TrimRight(base, "/") + Prefix + "setup?token=" + url.QueryEscape(token)
}

// Handler returns every dashboard route.
func (d *Dashboard) Handler() http.Handler {
	mux := http.NewServeMux()
	open := func(pattern string, h pageFunc) { mux.Handle(pattern, d.public(h)) }
	in := func(pattern string, h authedFunc) { mux.Handle(pattern, d.authed(h)) }

	mux.Handle("GET /app/static/", http.StripPrefix("/app/", staticHandler()))
	mux.HandleFunc("GET /app/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/app/links", http.StatusSeeOther)
	})
	open("GET /app/setup", d.setupForm)
	open("POST /app/setup", d.setup)
	open("GET /app/login", d.loginForm)
	open("POST /app/login", d.login)
	in("POST /app/logout", d.logout)
	in("GET /app/account", d.account)
	in("POST /app/account/password", d.changePassword)
	in("POST /app/projects/switch", d.switchProject)
	in("GET /app/projects/new", d.newProjectForm)
	in("POST /app/projects", d.createProject)

	in("GET /app/links", d.listLinks)
	in("GET /app/links.csv", d.exportLinks)
	in("GET /app/links/new", d.newLinkForm)
	in("POST /app/links", d.createLink)
	in("POST /app/links/bulk", d.bulkLinks)
	in("GET /app/links/{id}", d.editLinkForm)
	in("POST /app/links/{id}", d.updateLink)
	in("POST /app/links/{id}/archive", d.archiveLink)
	in("GET /app/links/{id}/delete", d.confirmDeleteLink)
	in("POST /app/links/{id}/delete", d.deleteLink)

	in("GET /app/tags", d.listTags)
	in("POST /app/tags", d.createTag)
	in("POST /app/tags/{id}", d.updateTag)
	in("POST /app/tags/{id}/delete", d.deleteTag)

	in("GET /app/analytics", d.analyticsPage)

	in("GET /app/webhooks", d.listWebhooks)
	in("GET /app/webhooks/new", d.newWebhookForm)
	in("POST /app/webhooks", d.createWebhook)
	in("GET /app/webhooks/{id}", d.webhookPage)
	in("GET /app/webhooks/{id}/edit", d.editWebhookForm)
	in("POST /app/webhooks/{id}", d.updateWebhook)
	in("GET /app/webhooks/{id}/delete", d.confirmDeleteWebhook)
	in("POST /app/webhooks/{id}/delete", d.deleteWebhook)
	in("POST /app/webhooks/{id}/secret", d.revealSecret)
	in("POST /app/webhooks/{id}/rotate-secret", d.rotateSecret)
	in("POST /app/webhooks/{id}/test", d.testWebhook)
	in("POST /app/webhooks/{id}/enable", d.enableWebhook)
	in("POST /app/webhooks/{id}/disable", d.disableWebhook)
	in("GET /app/webhooks/{id}/deliveries/{attemptId}", d.attemptPage)
	in("POST /app/webhooks/{id}/deliveries/{attemptId}/retry", d.retryAttempt)
	in("POST /app/webhooks/{id}/recover", d.recoverWebhook)
	in("GET /app/webhooks/{id}/recover/{jobId}", d.recoveryJobPage)

	in("GET /app/settings", d.settings)
	in("POST /app/settings/project", d.updateProject)
	in("POST /app/settings/domains", d.createDomain)
	in("POST /app/settings/domains/{id}/delete", d.deleteDomain)
	in("POST /app/settings/keys", d.createKey)
	in("POST /app/settings/keys/{id}/revoke", d.revokeKey)
	in("POST /app/settings/members", d.addMember)
	in("POST /app/settings/members/{userId}/remove", d.removeMember)
	in("POST /app/settings/members/{userId}/role", d.setRole)

	in("GET /app/qrcodes", d.listQRCodes)
	in("GET /app/qrcodes/new", d.newQRForm)
	in("GET /app/qrcodes/preview.svg", d.previewQR)
	in("POST /app/qrcodes", d.createQR)
	in("GET /app/qrcodes/{id}", d.qrPage)
	in("GET /app/qrcodes/{id}/image", d.qrImage)
	in("GET /app/qrcodes/{id}/edit", d.editQRForm)
	in("POST /app/qrcodes/{id}", d.updateQR)
	in("GET /app/qrcodes/{id}/delete", d.confirmDeleteQR)
	in("POST /app/qrcodes/{id}/delete", d.deleteQR)
	in("GET /app/pages", d.listPages)
	in("GET /app/pages/new", d.newPageForm)
	in("POST /app/pages", d.savePage)
	in("GET /app/pages/{id}", d.editPageForm)
	in("POST /app/pages/{id}", d.savePage)
	in("POST /app/pages/{id}/publish", d.publishPage)
	in("GET /app/pages/{id}/preview", d.previewPage)
	in("GET /app/pages/{id}/delete", d.confirmDeletePage)
	in("POST /app/pages/{id}/delete", d.deletePage)
	in("GET /app/customers", d.listCustomers)
	in("GET /app/customers/{id}", d.customerPage)
	in("GET /app/partners", d.listPartners)
	in("POST /app/partners", d.createPartner)
	in("POST /app/partners/{id}/approve", d.approvePartner)
	in("POST /app/partners/{id}/links", d.addPartnerLink)

	mux.Handle("/app/", d.public(func(w http.ResponseWriter, r *http.Request) error {
		return errs.NotFound("no such page")
	}))
	return d.secure(mux)
}

// secure sets the headers every dashboard answer carries.
func (d *Dashboard) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", d.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func staticHandler() http.Handler {
	fileServer := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}

// pageFunc is a handler that returns its failure instead of writing it.
type pageFunc func(w http.ResponseWriter, r *http.Request) error

// authedFunc is a handler of a logged-in user, acting in one project.
type authedFunc func(w http.ResponseWriter, r *http.Request, c *reqCtx) error

// reqCtx is who asks and in which project.
type reqCtx struct {
	Session  accounts.Session
	Projects []accounts.Membership
	Project  projects.Project
	Role     string
}

// ProjectID is the project every screen acts on.
func (c *reqCtx) ProjectID() string { return c.Project.ID }

func (d *Dashboard) public(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := h(w, r); err != nil {
			d.fail(w, r, nil, err)
		}
	})
}

// authed loads the session (or sends to the log-in form), refuses a POST
// without the session's CSRF token, and picks the current project: the one
// the session switched to when the user still belongs to it, else the first.
func (d *Dashboard) authed(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		ctx := r.Context()
		ck, err := r.Cookie(sessionCookie)
		var sess accounts.Session
		if err == nil {
			sess, err = d.Accounts.Session(ctx, ck.Value)
		}
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, http.ErrNoCookie) {
				d.fail(w, r, nil, err)
				return
			}
			if r.Method != http.MethodGet {
				d.fail(w, r, nil, forbidden("your session has ended; log in again"))
				return
			}
			next := r.URL.RequestURI()
			http.Redirect(w, r, "/app/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				d.fail(w, r, nil, errs.BadInput("unreadable form"))
				return
			}
			if !sess.CheckCSRF(r.PostForm.Get("csrf")) {
				d.fail(w, r, nil, forbidden("this form has expired (missing or wrong CSRF token); reload the page and try again"))
				return
			}
		}
		ms, err := d.Accounts.Memberships(ctx, sess.User.ID)
		if err != nil {
			d.fail(w, r, nil, err)
			return
		}
		c := &reqCtx{Session: sess, Projects: ms}
		for _, m := range ms {
			if m.Project.ID == sess.ProjectID || (c.Project.ID == "" && sess.ProjectID == "") {
				c.Project, c.Role = m.Project, m.Role
			}
		}
		if c.Project.ID == "" && len(ms) > 0 {
			c.Project, c.Role = ms[0].Project, ms[0].Role
		}
		if c.Project.ID == "" && !noProjectOK(r.URL.Path) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/app/projects/new", http.StatusSeeOther)
				return
			}
			d.fail(w, r, c, errs.NotFound("you belong to no project yet; create one first"))
			return
		}
		if err := h(w, r, c); err != nil {
			d.fail(w, r, c, err)
		}
	})
}

// noProjectOK are the pages a user without any project can use.
func noProjectOK(path string) bool {
	switch path {
	case "/app/projects/new", "/app/projects", "/app/logout", "/app/account", "/app/account/password":
		return true
	}
	return false
}

// forbidden is a refused request (CSRF, expired session).
func forbidden(msg string) error { return &errs.Error{Kind: errs.KindForbidden, Message: msg} }

// statusOf maps a domain error to its HTTP status, as the API does.
func statusOf(err error) int {
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		return http.StatusUnprocessableEntity
	case errs.KindBadInput:
		return http.StatusBadRequest
	case errs.KindConflict:
		return http.StatusConflict
	case errs.KindNotFound:
		return http.StatusNotFound
	case errs.KindForbidden:
		return http.StatusForbidden
	case errs.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// fail renders an error page: the domain's message for the user's mistakes,
// a plain sentence (and a log line) for the server's.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) {
	status := statusOf(err)
	msg := "Something went wrong on the server. Try again; if it keeps happening, check the server log."
	var de *errs.Error
	switch {
	case errors.As(err, &de):
		msg = de.Message
	case status == http.StatusNotFound:
		msg = "This page does not exist, or belongs to a project you are not a member of."
	default:
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelDebug
		}
		d.logger.Log(r.Context(), level, "dashboard: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	title := http.StatusText(status)
	d.render(w, r, c, status, "error", title, "", map[string]any{"Status": status, "Message": msg})
}

// view is what every template gets.
type view struct {
	Title   string
	Nav     string
	Ctx     *reqCtx
	CSRF    string
	Notice  string
	Data    any
	BaseURL string
}

// notices are the fixed messages a redirect can ask for (?done=…), so no
// free text from a URL is ever shown.
var notices = map[string]string{
	"link-created":       "Link created.",
	"link-saved":         "Link saved.",
	"link-deleted":       "Link deleted.",
	"link-archived":      "Link archived.",
	"link-unarchived":    "Link restored from the archive.",
	"tag-created":        "Tag created.",
	"tag-saved":          "Tag saved.",
	"tag-deleted":        "Tag deleted: no link or QR code carries it any more.",
	"bulk-done":          "Done: the selected links were changed.",
	"webhook-created":    "Webhook created.",
	"webhook-saved":      "Webhook saved.",
	"webhook-deleted":    "Webhook deleted.",
	"webhook-enabled":    "Webhook enabled.",
	"webhook-disabled":   "Webhook disabled.",
	"test-sent":          "Test event queued: it appears in the delivery log in a moment.",
	"redelivered":        "Redelivery queued: a new attempt appears in the log in a moment.",
	"project-saved":      "Project saved.",
	"project-created":    "Project created.",
	"switched":           "Switched project.",
	"domain-added":       "Domain added.",
	"domain-deleted":     "Domain deleted.",
	"member-added":       "Member added.",
	"member-removed":     "Member removed.",
	"role-changed":       "Role changed.",
	"key-revoked":        "API key revoked: requests with it are refused from now on.",
	"password-changed":   "Password changed. Your other sessions have ended.",
	"partner-created":    "Partner enrolled.",
	"partner-approved":   "Partner approved.",
	"partner-link-added": "Referral link added.",
	"welcome":            "Welcome! Your account is ready.",
	"qr-created":         "QR code created.",
	"qr-saved":           "QR code saved.",
	"page-saved":         "Page saved.",
	"page-published":     "Page published: it is live at its public address.",
	"page-unpublished":   "Page unpublished: its public address answers 404 now.",
	"page-deleted":       "Page deleted.",
	"qr-deleted":         "QR code deleted.",
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, page, title, nav string, data any) {
	t, ok := d.pages[page]
	if !ok {
		http.Error(w, "no template "+page, http.StatusInternalServerError)
		return
	}
	v := view{Title: title, Nav: nav, Ctx: c, Data: data, Notice: notices[r.URL.Query().Get("done")], BaseURL: d.Config.BaseURL}
	if c != nil {
		v.CSRF = c.Session.CSRF
	} else if pre, ok := data.(interface{ csrf() string }); ok {
		v.CSRF = pre.csrf()
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		d.logger.Error("dashboard: render", "page", page, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// ok renders a page with status 200.
func (d *Dashboard) ok(w http.ResponseWriter, r *http.Request, c *reqCtx, page, title, nav string, data any) error {
	d.render(w, r, c, http.StatusOK, page, title, nav, data)
	return nil
}

// redirect sends the browser on after a successful POST (303, so a reload
// does not post again).
func redirect(w http.ResponseWriter, r *http.Request, to, done string) error {
	if done != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "done=" + done
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// secureCookies reports whether cookies get the Secure flag: on https, seen
// directly or through the configured base URL.
func (d *Dashboard) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(d.Config.BaseURL, "https://")
}

func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: d.secureCookies(r), MaxAge: int(maxAge / time.Second),
	})
}

func (d *Dashboard) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: Prefix, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: d.secureCookies(r), MaxAge: -1})
}
