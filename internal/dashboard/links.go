package dashboard

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/tags"
)

const linksPageSize = 25

type linksData struct {
	Links    []links.Link
	Tags     []tags.Tag
	Domains  []string
	Search   string
	TagID    string
	Domain   string
	Sort     string
	Archived string
	Page     int
	Prev     string
	Next     string
	CSV      string
	Filtered bool
}

func linkOptions(q url.Values) (links.ListOptions, error) {
	o := links.ListOptions{Search: q.Get("search"), TagID: q.Get("tag"), Domain: q.Get("domain"), Sort: q.Get("sort")}
	switch q.Get("archived") {
	case "", "no":
		f := false
		o.Archived = &f
	case "yes":
		t := true
		o.Archived = &t
	case "all":
	default:
		return o, errs.BadInput("archived must be no, yes or all")
	}
	o.Page = 1
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100000 {
			return o, errs.BadInput("page must be a positive number")
		}
		o.Page = n
	}
	return o, nil
}

func (d *Dashboard) domainNames(r *http.Request, c *reqCtx) ([]string, error) {
	ds, err := d.Domains.List(r.Context(), c.ProjectID(), domains.ListOptions{Page: 1, PageSize: 100})
	if err != nil {
		return nil, err
	}
	out := []string{d.Config.BaseDomain()}
	for _, x := range ds {
		out = append(out, x.Slug)
	}
	return out, nil
}

func (d *Dashboard) listLinks(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	q := r.URL.Query()
	o, err := linkOptions(q)
	if err != nil {
		return err
	}
	o.PageSize = linksPageSize + 1
	ls, err := d.Links.List(r.Context(), c.ProjectID(), o)
	if err != nil {
		return err
	}
	ts, err := d.Tags.List(r.Context(), c.ProjectID())
	if err != nil {
		return err
	}
	ds, err := d.domainNames(r, c)
	if err != nil {
		return err
	}
	data := linksData{Tags: ts, Domains: ds, Search: o.Search, TagID: o.TagID, Domain: o.Domain, Sort: o.Sort,
		Archived: q.Get("archived"), Page: o.Page}
	data.Filtered = o.Search != "" || o.TagID != "" || o.Domain != "" || data.Archived != ""
	if len(ls) > linksPageSize {
		ls = ls[:linksPageSize]
		data.Next = pageURL("/app/links", q, o.Page+1)
	}
	if o.Page > 1 {
		data.Prev = pageURL("/app/links", q, o.Page-1)
	}
	csvQ := url.Values{}
	for k, v := range q {
		if k != "page" && k != "done" {
			csvQ[k] = v
		}
	}
	data.CSV = "/app/links.csv"
	if len(csvQ) > 0 {
		data.CSV += "?" + csvQ.Encode()
	}
	data.Links = ls
	return d.ok(w, r, c, "links", "Links", "links", data)
}

func pageURL(path string, q url.Values, page int) string {
	c := url.Values{}
	for k, v := range q {
		if k != "done" {
			c[k] = v
		}
	}
	c.Set("page", strconv.Itoa(page))
	return path + "?" + c.Encode()
}

// exportLinks writes the filtered list (every page of it) as CSV.
func (d *Dashboard) exportLinks(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	o, err := linkOptions(r.URL.Query())
	if err != nil {
		return err
	}
	o.PageSize = 100
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="links.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "shortLink", "url", "domain", "key", "title", "tags", "clicks", "leads", "sales", "saleAmount", "archived", "createdAt"})
	for o.Page = 1; o.Page <= 1000; o.Page++ {
		ls, err := d.Links.List(r.Context(), c.ProjectID(), o)
		if err != nil {
			if o.Page == 1 {
				return err
			}
			d.logger.Error("dashboard: csv export", "err", err)
			break
		}
		for _, l := range ls {
			var tn []string
			for _, t := range l.Tags {
				tn = append(tn, t.Name)
			}
			_ = cw.Write([]string{l.ID, l.ShortLink, csvSafe(l.URL), l.Domain, l.Key, csvSafe(str(l.Title)), csvSafe(strings.Join(tn, ";")),
				strconv.FormatInt(l.Clicks, 10), strconv.FormatInt(l.Leads, 10), strconv.FormatInt(l.Sales, 10),
				strconv.FormatInt(l.SaleAmount, 10), strconv.FormatBool(l.Archived), l.CreatedAt.UTC().Format(time.RFC3339)})
		}
		if len(ls) < o.PageSize {
			break
		}
	}
	cw.Flush()
	return nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// linkForm is the create/edit form: the raw values (shown back on error)
// and the link being edited.
type linkForm struct {
	Link    *links.Link
	V       url.Values
	Errors  formErrors
	Domains []string
	Tags    []tags.Tag
}

// FinalURL is where a visitor of the link arrives: the destination with the
// UTM fields as its query parameters (what the form saves as the URL).
func (f linkForm) FinalURL() string { return withUTM(f.V.Get("url"), f.V) }

// utmFields are the UTM builder's fields, in the order they are added to
// the destination's query.
var utmFields = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// withUTM is the UTM builder's rule: each non-empty field sets the parameter
// of its name in the query of raw: in its place when the URL has it (a second
// one is dropped), else appended, in the order of utmFields. An empty field
// leaves the URL's own parameter alone, so a pasted URL keeps its UTM
// parameters (linkRequest copies them into the empty fields). The rest of the
// query and the fragment stay as they are, so saving twice changes nothing.
// The dashboard's script (static/app.js, the live preview) follows the same
// rule with the same escaping (encodeURIComponent's, spaces as "+").
func withUTM(raw string, v url.Values) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	rest, frag, hasFrag := strings.Cut(raw, "#")
	base, query, _ := strings.Cut(rest, "?")
	var parts []string
	done := map[string]bool{}
	for _, p := range strings.Split(query, "&") {
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		if val := strings.TrimSpace(v.Get(name)); val != "" && slices.Contains(utmFields, name) {
			if done[name] {
				continue
			}
			done[name] = true
			p = name + "=" + componentEscape(val)
		}
		parts = append(parts, p)
	}
	for _, name := range utmFields {
		if val := strings.TrimSpace(v.Get(name)); val != "" && !done[name] {
			parts = append(parts, name+"="+componentEscape(val))
		}
	}
	out := base
	if len(parts) > 0 {
		out += "?" + strings.Join(parts, "&")
	}
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// componentEscape is JavaScript's encodeURIComponent with spaces as "+".
func componentEscape(s string) string {
	const keep = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// linkFields are the form's field names: the API's JSON names.
var linkFields = []string{"url", "domain", "key", "externalId", "expiresAt", "expiredUrl", "password", "title",
	"description", "image", "video", "ios", "android", "geo", "tagNames", "tags", "comments",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

func (d *Dashboard) linkFormData(r *http.Request, c *reqCtx, f *linkForm) error {
	var err error
	if f.Domains, err = d.domainNames(r, c); err != nil {
		return err
	}
	f.Tags, err = d.Tags.List(r.Context(), c.ProjectID())
	return err
}

func (d *Dashboard) newLinkForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := linkForm{V: url.Values{}}
	if err := d.linkFormData(r, c, &f); err != nil {
		return err
	}
	return d.ok(w, r, c, "link_form", "Create link", "links", f)
}

// formText is a trimmed form value as an optional field: nil when absent.
func formText(v url.Values, name string) *string {
	if _, ok := v[name]; !ok {
		return nil
	}
	s := strings.TrimSpace(v.Get(name))
	return &s
}

func formBool(v url.Values, name string) *bool {
	b := v.Get(name) == "on"
	return &b
}

// parseGeo reads "US https://…" lines.
func parseGeo(s string) (map[string]string, error) {
	geo := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		country, dest, ok := strings.Cut(line, " ")
		if !ok {
			return nil, errs.Invalid("geo: line %d: write a country code, a space and a URL, e.g. US https://example.com/us", i+1)
		}
		geo[strings.ToUpper(strings.TrimSpace(country))] = strings.TrimSpace(dest)
	}
	return geo, nil
}

// parseLocal reads a datetime-local value as UTC and returns RFC 3339.
func parseLocal(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339), nil
		}
	}
	return "", errs.Invalid("expiresAt must be a date and time such as 2030-01-31T12:00")
}

// linkRequest turns the form into the API's create request; every field is
// given, so that as an update (AsUpdate) empty fields clear.
func linkRequest(v url.Values, baseDomain string) (links.CreateRequest, error) {
	req := links.CreateRequest{
		URL: withUTM(v.Get("url"), v), Domain: formText(v, "domain"), Key: formText(v, "key"),
		ExternalID: formText(v, "externalId"), ExpiredURL: formText(v, "expiredUrl"),
		Title: formText(v, "title"), Description: formText(v, "description"), Image: formText(v, "image"),
		Video: formText(v, "video"), IOS: formText(v, "ios"), Android: formText(v, "android"),
		Comments: formText(v, "comments"), UTMSource: formText(v, "utm_source"), UTMMedium: formText(v, "utm_medium"),
		UTMCampaign: formText(v, "utm_campaign"), UTMTerm: formText(v, "utm_term"), UTMContent: formText(v, "utm_content"),
		Archived: formBool(v, "archived"), Proxy: formBool(v, "proxy"), Rewrite: formBool(v, "rewrite"),
		DoIndex: formBool(v, "doIndex"), PublicStats: formBool(v, "publicStats"), TrackConversion: formBool(v, "trackConversion"),
	}
	// A UTM field left empty takes the URL's own parameter, so that the
	// fields say what the URL carries.
	if u, err := url.Parse(req.URL); err == nil {
		q := u.Query()
		for _, f := range []struct {
			name string
			dst  **string
		}{{"utm_source", &req.UTMSource}, {"utm_medium", &req.UTMMedium}, {"utm_campaign", &req.UTMCampaign},
			{"utm_term", &req.UTMTerm}, {"utm_content", &req.UTMContent}} {
			if (*f.dst == nil || **f.dst == "") && q.Get(f.name) != "" {
				val := q.Get(f.name)
				*f.dst = &val
			}
		}
	}
	if req.Domain != nil && strings.EqualFold(*req.Domain, baseDomain) {
		req.Domain = nil // the default: the API's own rule for the base domain applies
	}
	exp, err := parseLocal(strings.TrimSpace(v.Get("expiresAt")))
	if err != nil {
		return req, err
	}
	req.ExpiresAt = &exp
	if req.Geo, err = parseGeo(v.Get("geo")); err != nil {
		return req, err
	}
	req.TagNames = []string{}
	for _, n := range strings.Split(v.Get("tagNames"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			req.TagNames = append(req.TagNames, n)
		}
	}
	if pw := v.Get("password"); pw != "" {
		req.Password = &pw
	}
	return req, nil
}

func (d *Dashboard) createLink(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := linkForm{V: r.PostForm}
	req, err := linkRequest(r.PostForm, d.Config.BaseDomain())
	if err == nil {
		if req.Key != nil && *req.Key == "" {
			req.Key = nil
		}
		if req.ExpiresAt != nil && *req.ExpiresAt == "" {
			req.ExpiresAt = nil
		}
		_, err = d.Links.Create(r.Context(), c.ProjectID(), req)
	}
	if err != nil {
		return d.linkFormError(w, r, c, f, err, "Create link")
	}
	return redirect(w, r, "/app/links", "link-created")
}

func (d *Dashboard) linkFormError(w http.ResponseWriter, r *http.Request, c *reqCtx, f linkForm, err error, title string) error {
	var ferr error
	if f.Errors, ferr = fieldErrors(err, linkFields...); ferr != nil {
		return ferr
	}
	if m := f.Errors.Fields["tags"]; m != "" {
		f.Errors.Fields["tagNames"] = m
	}
	if err := d.linkFormData(r, c, &f); err != nil {
		return err
	}
	d.render(w, r, c, statusOf(err), "link_form", title, "links", f)
	return nil
}

// linkValues are a link's form values, for the edit form.
func linkValues(l links.Link) url.Values {
	v := url.Values{}
	set := func(k string, p *string) {
		if p != nil {
			v.Set(k, *p)
		}
	}
	v.Set("url", l.URL)
	v.Set("domain", l.Domain)
	v.Set("key", l.Key)
	set("externalId", l.ExternalID)
	set("expiredUrl", l.ExpiredURL)
	set("title", l.Title)
	set("description", l.Description)
	set("image", l.Image)
	set("video", l.Video)
	set("ios", l.IOS)
	set("android", l.Android)
	set("comments", l.Comments)
	set("utm_source", l.UTMSource)
	set("utm_medium", l.UTMMedium)
	set("utm_campaign", l.UTMCampaign)
	set("utm_term", l.UTMTerm)
	set("utm_content", l.UTMContent)
	if l.ExpiresAt != nil {
		v.Set("expiresAt", l.ExpiresAt.UTC().Format("2006-01-02T15:04"))
	}
	var geo []string
	for k, u := range l.Geo {
		geo = append(geo, k+" "+u)
	}
	sort.Strings(geo)
	v.Set("geo", strings.Join(geo, "\n"))
	var tn []string
	for _, t := range l.Tags {
		tn = append(tn, t.Name)
	}
	v.Set("tagNames", strings.Join(tn, ", "))
	for k, b := range map[string]bool{"archived": l.Archived, "proxy": l.Proxy, "rewrite": l.Rewrite, "doIndex": l.DoIndex,
		"publicStats": l.PublicStats, "trackConversion": l.TrackConversion} {
		if b {
			v.Set(k, "on")
		}
	}
	return v
}

func (d *Dashboard) editLinkForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	l, err := d.Links.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := linkForm{Link: &l, V: linkValues(l)}
	if err := d.linkFormData(r, c, &f); err != nil {
		return err
	}
	return d.ok(w, r, c, "link_form", "Edit link", "links", f)
}

func (d *Dashboard) updateLink(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	l, err := d.Links.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := linkForm{Link: &l, V: r.PostForm}
	req, err := linkRequest(r.PostForm, d.Config.BaseDomain())
	if err == nil {
		u := req.AsUpdate()
		if r.PostForm.Get("removePassword") == "on" {
			u.Password = links.Null[string]()
		}
		_, err = d.Links.Update(r.Context(), c.ProjectID(), l.ID, u)
	}
	if err != nil {
		return d.linkFormError(w, r, c, f, err, "Edit link")
	}
	return redirect(w, r, "/app/links", "link-saved")
}

func (d *Dashboard) archiveLink(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	archive := r.PostForm.Get("archived") != "false"
	if _, err := d.Links.Update(r.Context(), c.ProjectID(), r.PathValue("id"), links.UpdateRequest{Archived: links.Some(archive)}); err != nil {
		return err
	}
	if archive {
		return redirect(w, r, "/app/links", "link-archived")
	}
	return redirect(w, r, "/app/links", "link-unarchived")
}

type confirmData struct {
	What, Name, Action, Back string
}

func (d *Dashboard) confirmDeleteLink(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	l, err := d.Links.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "confirm", "Delete link", "links", confirmData{What: "link", Name: l.ShortLink,
		Action: "/app/links/" + l.ID + "/delete", Back: "/app/links"})
}

func (d *Dashboard) deleteLink(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if err := d.Links.Delete(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/links", "link-deleted")
}

// bulkLinks archives, restores or deletes the selected links. Deleting asks
// first (a confirmation page that posts again with confirm=yes).
func (d *Dashboard) bulkLinks(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		return errs.Invalid("select at least one link first")
	}
	var err error
	switch r.PostForm.Get("action") {
	case "archive":
		_, err = d.Links.BulkUpdate(r.Context(), c.ProjectID(), ids, links.UpdateRequest{Archived: links.Some(true)})
	case "unarchive":
		_, err = d.Links.BulkUpdate(r.Context(), c.ProjectID(), ids, links.UpdateRequest{Archived: links.Some(false)})
	case "delete":
		if r.PostForm.Get("confirm") != "yes" {
			return d.ok(w, r, c, "confirm_bulk", "Delete links", "links", map[string]any{"IDs": ids,
				"Count": fmt.Sprint(len(ids))})
		}
		_, err = d.Links.BulkDelete(r.Context(), c.ProjectID(), ids)
	default:
		return errs.BadInput("action must be archive, unarchive or delete")
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/app/links", "bulk-done")
}
