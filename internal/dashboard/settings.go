package dashboard

import (
	"net/http"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/patch"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/qrcodes"
)

type settingsData struct {
	Name, Slug, OwnerEmail string
	Domains                []domains.Domain
	Members                []accounts.Member
	Keys                   []keyRow
	Scopes                 []string
	NewKey                 string
	ProjectErrors          formErrors
	DomainErrors           formErrors
	KeyErrors              formErrors
	MemberErrors           formErrors
	MemberRoleErrors       formErrors
	DomainValue            string
	MemberValue            string
}

// keyRow is an API key in the list, with its state: active, expired or
// revoked (the API refuses the last two).
type keyRow struct {
	projects.KeyInfo
	State string
}

func (d *Dashboard) settingsData(r *http.Request, c *reqCtx) (settingsData, error) {
	s := settingsData{Name: c.Project.Name, Slug: c.Project.Slug, OwnerEmail: str(c.Project.OwnerEmail), Scopes: projects.AllScopes()}
	var err error
	if s.Domains, err = d.Domains.List(r.Context(), c.ProjectID(), domains.ListOptions{Page: 1, PageSize: 100}); err != nil {
		return s, err
	}
	keys, err := d.Projects.ListKeys(r.Context(), c.ProjectID())
	if err != nil {
		return s, err
	}
	now := d.Now()
	for _, k := range keys {
		row := keyRow{KeyInfo: k, State: "active"}
		switch {
		case k.RevokedAt != nil:
			row.State = "revoked"
		case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
			row.State = "expired"
		}
		s.Keys = append(s.Keys, row)
	}
	s.Members, err = d.Accounts.Members(r.Context(), c.ProjectID())
	return s, err
}

func (d *Dashboard) settings(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	s, err := d.settingsData(r, c)
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "settings", "Settings", "settings", s)
}

// settingsError shows the settings page again with one form's messages.
func (d *Dashboard) settingsError(w http.ResponseWriter, r *http.Request, c *reqCtx, err error, set func(*settingsData, formErrors), fields ...string) error {
	fe, ferr := fieldErrors(err, fields...)
	if ferr != nil {
		return ferr
	}
	s, lerr := d.settingsData(r, c)
	if lerr != nil {
		return lerr
	}
	set(&s, fe)
	d.render(w, r, c, statusOf(err), "settings", "Settings", "settings", s)
	return nil
}

func (d *Dashboard) updateProject(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := r.PostForm
	name, slug, email := strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("slug")), strings.TrimSpace(f.Get("ownerEmail"))
	if _, err := d.Projects.Change(r.Context(), c.ProjectID(), projects.Update{Name: patch.Some(name), Slug: patch.Some(slug), OwnerEmail: patch.Some(email)}); err != nil {
		return d.settingsError(w, r, c, err, func(s *settingsData, fe formErrors) {
			s.ProjectErrors, s.Name, s.Slug, s.OwnerEmail = fe, name, slug, email
		}, "name", "slug", "ownerEmail")
	}
	return redirect(w, r, "/app/settings", "project-saved")
}

func (d *Dashboard) createDomain(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	slug := strings.TrimSpace(r.PostForm.Get("slug"))
	if _, err := d.Domains.Create(r.Context(), c.ProjectID(), d.Config.BaseDomain(), domains.CreateRequest{Slug: slug}); err != nil {
		return d.settingsError(w, r, c, err, func(s *settingsData, fe formErrors) {
			if fe.General != "" {
				fe.Fields, fe.General = map[string]string{"slug": fe.General}, ""
			}
			s.DomainErrors, s.DomainValue = fe, slug
		}, "slug")
	}
	return redirect(w, r, "/app/settings", "domain-added")
}

func (d *Dashboard) deleteDomain(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if _, err := d.Domains.Delete(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/settings", "domain-deleted")
}

// createKey makes an API key with the chosen scopes (and optional expiry,
// read as UTC) and shows it once; it is never shown again (only its hash is
// stored). It is the API's key creation, without a grantor: a member of the
// project may give a key any scope.
func (d *Dashboard) createKey(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := r.PostForm
	nk := projects.NewKey{Name: strings.TrimSpace(f.Get("name")), Scopes: f["scopes"]}
	keyErr := func(err error) error {
		return d.settingsError(w, r, c, err, func(s *settingsData, fe formErrors) { s.KeyErrors = fe }, "name", "scopes", "expiresAt")
	}
	if len(nk.Scopes) == 0 {
		return keyErr(errs.Invalid("scopes: choose at least one scope"))
	}
	if v := strings.TrimSpace(f.Get("expiresAt")); v != "" {
		exp, err := parseLocal(v)
		if err != nil {
			return keyErr(err)
		}
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil {
			return err
		}
		nk.ExpiresAt = &t
	}
	k, err := d.Projects.CreateKey(r.Context(), c.ProjectID(), nk, nil)
	if err != nil {
		return keyErr(err)
	}
	s, err := d.settingsData(r, c)
	if err != nil {
		return err
	}
	s.NewKey = k.Key
	return d.ok(w, r, c, "settings", "Settings", "settings", s)
}

// revokeKey revokes one of the project's keys (the page asks first): the
// API's DELETE /api/keys/{id}.
func (d *Dashboard) revokeKey(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if _, err := d.Projects.RevokeKey(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/settings", "key-revoked")
}

// setRole makes a member owner or member (owners only; the last owner stays).
func (d *Dashboard) setRole(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if c.Role != accounts.RoleOwner {
		return forbidden("only an owner of the project can change roles")
	}
	if err := d.Accounts.SetRole(r.Context(), c.ProjectID(), r.PathValue("userId"), r.PostForm.Get("role")); err != nil {
		return d.settingsError(w, r, c, err, func(s *settingsData, fe formErrors) {
			if fe.General == "" {
				fe.General, fe.Fields = fe.Fields["role"], nil
			}
			s.MemberRoleErrors = fe
		}, "role")
	}
	return redirect(w, r, "/app/settings", "role-changed")
}

func (d *Dashboard) addMember(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if c.Role != accounts.RoleOwner {
		return forbidden("only an owner of the project can add members")
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	role := r.PostForm.Get("role")
	if err := d.Accounts.AddMemberByEmail(r.Context(), c.ProjectID(), email, role); err != nil {
		return d.settingsError(w, r, c, err, func(s *settingsData, fe formErrors) {
			if fe.General != "" {
				fe.Fields, fe.General = map[string]string{"email": fe.General}, ""
			}
			s.MemberErrors, s.MemberValue = fe, email
		}, "email", "role")
	}
	return redirect(w, r, "/app/settings", "member-added")
}

func (d *Dashboard) listQRCodes(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	qs, err := d.QRCodes.List(r.Context(), c.ProjectID(), qrcodes.ListFilter{Search: r.URL.Query().Get("search"), PageSize: 100})
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "qrcodes", "QR codes", "qrcodes", qs)
}

func (d *Dashboard) listPages(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	ps, err := d.Pages.List(r.Context(), c.ProjectID(), pages.ListOptions{PageSize: 100})
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "pages", "Pages", "pages", ps)
}

func (d *Dashboard) listCustomers(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	var cs []conversions.CustomerDetail
	if d.Conversions != nil {
		var err error
		if cs, err = d.Conversions.ListCustomers(r.Context(), c.ProjectID(), conversions.ListOptions{
			Email: r.URL.Query().Get("email"), PageSize: 100}); err != nil {
			return err
		}
	}
	return d.ok(w, r, c, "customers", "Customers", "customers", cs)
}

func (d *Dashboard) customerPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if d.Conversions == nil {
		return errs.NotFound("no such customer")
	}
	a, err := d.Conversions.CustomerActivity(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "customer", "Customer", "customers", a)
}

type partnersData struct {
	Partners []partners.Detail
	V        map[string]string
	Errors   formErrors
}

func (d *Dashboard) partnersPage(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, data partnersData) error {
	ps, err := d.Partners.List(r.Context(), c.ProjectID(), partners.ListOptions{PageSize: 100})
	if err != nil {
		return err
	}
	data.Partners = ps
	d.render(w, r, c, status, "partners", "Partners", "partners", data)
	return nil
}

func (d *Dashboard) listPartners(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	return d.partnersPage(w, r, c, http.StatusOK, partnersData{})
}

func (d *Dashboard) createPartner(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := r.PostForm
	status := f.Get("status")
	req := partners.CreateRequest{Name: strings.TrimSpace(f.Get("name")), Email: strings.TrimSpace(f.Get("email")),
		URL: strings.TrimSpace(f.Get("url")), Status: &status}
	if _, err := d.Partners.Create(r.Context(), c.ProjectID(), req); err != nil {
		fe, ferr := fieldErrors(err, "name", "email", "url", "status")
		if ferr != nil {
			return ferr
		}
		return d.partnersPage(w, r, c, statusOf(err), partnersData{Errors: fe,
			V: map[string]string{"name": req.Name, "email": req.Email, "url": req.URL}})
	}
	return redirect(w, r, "/app/partners", "partner-created")
}

func (d *Dashboard) approvePartner(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if _, err := d.Partners.Approve(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/partners", "partner-approved")
}

// addPartnerLink gives a partner one more referral link.
func (d *Dashboard) addPartnerLink(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	req := partners.LinkRequest{URL: strings.TrimSpace(r.PostForm.Get("url"))}
	if k := strings.TrimSpace(r.PostForm.Get("key")); k != "" {
		req.Key = &k
	}
	if _, err := d.Partners.AddLink(r.Context(), c.ProjectID(), r.PathValue("id"), req); err != nil {
		fe, ferr := fieldErrors(err)
		if ferr != nil {
			return ferr
		}
		return d.partnersPage(w, r, c, statusOf(err), partnersData{Errors: fe})
	}
	return redirect(w, r, "/app/partners", "partner-link-added")
}

// removeMember takes a member out of the project (owners only; the page asks
// first).
func (d *Dashboard) removeMember(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if c.Role != accounts.RoleOwner {
		return forbidden("only an owner of the project can remove members")
	}
	if err := d.Accounts.RemoveMember(r.Context(), c.ProjectID(), r.PathValue("userId")); err != nil {
		return err
	}
	if r.PathValue("userId") == c.Session.User.ID {
		return redirect(w, r, "/app/links", "member-removed")
	}
	return redirect(w, r, "/app/settings", "member-removed")
}
