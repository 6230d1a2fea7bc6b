package public

import (
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/codeqr/codeqr/internal/interactions"
)

// shortLinks serves GET, HEAD and (password form) POST /<key> on any domain
// the server knows (Host-based). It resolves the key through the Resolver,
// applies the link's rules (archived, expiry, password, ios/android/geo
// targeting, conversion tracking), answers, and hands the enriched
// interaction to the Recorder — never writing to the database on the request
// path.
type shortLinks struct {
	*Server
	baseHost string // hostname of --base-url, without port
	base     string // its stored domain (host[:port])
	scheme   string
}

func newShortLinks(s *Server) *shortLinks {
	base := strings.ToLower(s.cfg.BaseDomain())
	return &shortLinks{Server: s, base: base, scheme: s.cfg.BaseScheme(), baseHost: hostname(base)}
}

// maxKeyLen is the longest key the key space accepts (shortlinks.ValidateKey).
const maxKeyLen = 190

// validKey is a cheap check of the key syntax, so that odd paths never reach
// the cache or the database.
func validKey(k string) bool {
	if k == "" || len(k) > maxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// hostname drops the port of a Host header value ("[::1]:80" → "::1").
func hostname(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// domainOf maps the request's Host to a stored domain: the base domain with or
// without its port, else the host without port.
func (h *shortLinks) domainOf(r *http.Request) string {
	host := strings.ToLower(hostname(r.Host))
	if host == h.baseHost {
		return h.base
	}
	return host
}

func (h *shortLinks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/")
	if !validKey(key) || len(r.Host) > 255 {
		notFound(w, r)
		return
	}
	t, found, err := h.res.Lookup(r.Context(), h.domainOf(r), key)
	if err != nil {
		h.log.ErrorContext(r.Context(), "public: lookup", "err", err)
		page(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "Please try again in a moment.")
		return
	}
	if !found || t.Archived || (t.Kind == "qrcode" && t.Static) {
		notFound(w, r)
		return
	}
	if t.Kind == "qrcode" {
		h.scan(w, r, t)
		return
	}
	h.click(w, r, t)
}

func (h *shortLinks) click(w http.ResponseWriter, r *http.Request, t Target) {
	now := h.now()
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		if t.ExpiredURL != "" {
			redirect(w, r, t.ExpiredURL)
			return
		}
		page(w, r, http.StatusGone, "Link expired", "This link has expired.")
		return
	}
	if t.PasswordHash != "" && !h.passwordOK(w, r, t) {
		return
	}
	if r.Method == http.MethodPost && t.PasswordHash == "" {
		w.Header().Set("Allow", "GET, HEAD")
		page(w, r, http.StatusMethodNotAllowed, "Method not allowed", "")
		return
	}
	in := h.enrich(r, now)
	in.QR = r.URL.Query().Get("qr") == "1"
	dest := destination(t, in)
	if t.TrackConversion {
		dest = withClickID(dest, in.ClickID)
	}
	in.URL = dest
	h.rec.Record(interactions.Record{Kind: interactions.KindClick, ProjectID: t.ProjectID, ResourceID: t.ResourceID, Interaction: in})
	redirect(w, r, dest)
}

func (h *shortLinks) enrich(r *http.Request, now time.Time) interactions.Interaction {
	in := h.enr.Enrich(r, now)
	if r.Method == http.MethodHead {
		in.Bot = true
	}
	return in
}

// destination applies the targeting rules: the device's store link first,
// then the visitor's country, else the link's url.
func destination(t Target, in interactions.Interaction) string {
	switch {
	case t.IOS != "" && in.OS == "iOS":
		return t.IOS
	case t.Android != "" && in.OS == "Android":
		return t.Android
	}
	if u, ok := t.Geo[in.Country]; ok && u != "" {
		return u
	}
	return t.URL
}

// withClickID appends cq_id=<clickId> to the query, keeping everything else
// byte for byte (including a fragment).
func withClickID(dest, clickID string) string {
	frag := ""
	if i := strings.IndexByte(dest, '#'); i >= 0 {
		dest, frag = dest[:i], dest[i:]
	}
	sep := "?"
	if strings.Contains(dest, "?") {
		sep = "&"
		if strings.HasSuffix(dest, "?") || strings.HasSuffix(dest, "&") {
			sep = ""
		}
	}
	return dest + sep + "cq_id=" + clickID + frag
}

// passwordOK shows the form (GET/HEAD, or a wrong password) and reports
// whether the request carries the right password (POST). Nothing is recorded
// until it does.
func (h *shortLinks) passwordOK(w http.ResponseWriter, r *http.Request, t Target) bool {
	if r.Method != http.MethodPost {
		passwordForm(w, r, http.StatusOK, false)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		passwordForm(w, r, http.StatusBadRequest, true)
		return false
	}
	pw := r.PostForm.Get("password")
	if pw == "" || len(pw) > 72 || bcrypt.CompareHashAndPassword([]byte(t.PasswordHash), []byte(pw)) != nil {
		passwordForm(w, r, http.StatusUnauthorized, true)
		return false
	}
	return true
}

func (h *shortLinks) scan(w http.ResponseWriter, r *http.Request, t Target) {
	if r.Method == http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD")
		page(w, r, http.StatusMethodNotAllowed, "Method not allowed", "")
		return
	}
	in := h.enrich(r, h.now())
	in.QR = true
	if t.QRType == "url" {
		in.URL = t.URL
		h.rec.Record(interactions.Record{Kind: interactions.KindScan, ProjectID: t.ProjectID, ResourceID: t.ResourceID, Interaction: in})
		redirect(w, r, t.URL)
		return
	}
	if r.URL.Query().Get("download") == "vcf" && t.QRType == "vcard" {
		vcardDownload(w, r, t) // the download after the display page: not a second scan
		return
	}
	in.URL = h.scheme + "://" + t.Domain + "/" + t.Key
	h.rec.Record(interactions.Record{Kind: interactions.KindScan, ProjectID: t.ProjectID, ResourceID: t.ResourceID, Interaction: in})
	display(w, r, t)
}

func redirect(w http.ResponseWriter, r *http.Request, dest string) {
	h := w.Header()
	h.Set("Location", dest)
	h.Set("Cache-Control", "no-store") // every open must reach us to be counted
	w.WriteHeader(http.StatusFound)
}
