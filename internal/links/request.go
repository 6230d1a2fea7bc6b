package links

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/patch"
	"github.com/codeqr/codeqr/internal/shortlinks"
)

// Limits on user-supplied values. They keep rows small and are the same for
// every path (single, bulk, upsert, partner enrollment).
const (
	MaxBulk           = 100
	maxTitle          = 190
	maxDescription    = 1000
	maxComments       = 1000
	maxExternalID     = 255
	maxUTM            = 190
	maxPartnerID      = 255
	maxFolderID       = 255
	maxPassword       = 72 // bcrypt's own limit
	maxDomain         = 253
	maxGeoEntries     = 250
	maxTagsPerRequest = 100
	maxTagID          = 100
)

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// Optional is a PATCH field: absent leaves it alone, null clears it, a value
// sets it (see internal/patch).
type Optional[T any] = patch.Field[T]

// Some returns a present, non-null Optional.
func Some[T any](v T) Optional[T] { return patch.Some(v) }

// Null returns a present Optional that clears the field.
func Null[T any]() Optional[T] { return patch.Null[T]() }

// CreateRequest is the body of POST /api/links (and each item of POST
// /api/links/bulk, and of PUT /api/links/upsert). Only url is required.
// Omitted and null optional fields mean the same: the default. An empty string
// in an optional text field also means "none".
type CreateRequest struct {
	URL             string            `json:"url"`
	Domain          *string           `json:"domain"`
	Key             *string           `json:"key"`
	ExternalID      *string           `json:"externalId"`
	Archived        *bool             `json:"archived"`
	ExpiresAt       *string           `json:"expiresAt"` // RFC 3339
	ExpiredURL      *string           `json:"expiredUrl"`
	Password        *string           `json:"password"` // stored bcrypt-hashed, never returned
	Proxy           *bool             `json:"proxy"`
	Title           *string           `json:"title"`
	Description     *string           `json:"description"`
	Image           *string           `json:"image"`
	Video           *string           `json:"video"`
	Rewrite         *bool             `json:"rewrite"`
	DoIndex         *bool             `json:"doIndex"`
	IOS             *string           `json:"ios"`
	Android         *string           `json:"android"`
	Geo             map[string]string `json:"geo"` // ISO country code (upper case) → URL
	PublicStats     *bool             `json:"publicStats"`
	TrackConversion *bool             `json:"trackConversion"`
	TagIDs          []string          `json:"tagIds"`
	TagNames        []string          `json:"tagNames"` // unknown names are created
	Comments        *string           `json:"comments"`
	UTMSource       *string           `json:"utm_source"`
	UTMMedium       *string           `json:"utm_medium"`
	UTMCampaign     *string           `json:"utm_campaign"`
	UTMTerm         *string           `json:"utm_term"`
	UTMContent      *string           `json:"utm_content"`
	PartnerID       *string           `json:"partnerId"`
	FolderID        *string           `json:"folderId"` // a label: codeqr has no folders of its own
	TagID           *string           `json:"tagId"`    // Dub's deprecated single tag: one more tag id
	DubUnsupported
}

// DubUnsupported are fields of Dub's link requests for features codeqr does
// not have (tenants, programs, key prefixes and lengths, ref parameters, A/B
// tests, per-link webhook lists). They are known, so they are not "unknown
// field" 400s: null (or absent) is accepted, and a value is refused with a
// 422 that says it is not offered.
type DubUnsupported struct {
	TenantID        json.RawMessage `json:"tenantId"`
	ProgramID       json.RawMessage `json:"programId"`
	Prefix          json.RawMessage `json:"prefix"`
	KeyLength       json.RawMessage `json:"keyLength"`
	Ref             json.RawMessage `json:"ref"`
	TestVariants    json.RawMessage `json:"testVariants"`
	TestStartedAt   json.RawMessage `json:"testStartedAt"`
	TestCompletedAt json.RawMessage `json:"testCompletedAt"`
	WebhookIDs      json.RawMessage `json:"webhookIds"`
}

func (d DubUnsupported) check(path string) error {
	for _, f := range []struct {
		name, why string
		v         json.RawMessage
	}{
		{"tenantId", "links carry no tenant", d.TenantID}, {"programId", "partner links belong to the project's one program", d.ProgramID},
		{"prefix", "random keys have no prefix", d.Prefix}, {"keyLength", "random keys are 7 characters", d.KeyLength},
		{"ref", "add the parameter to url yourself", d.Ref}, {"testVariants", "codeqr has no A/B tests", d.TestVariants},
		{"testStartedAt", "codeqr has no A/B tests", d.TestStartedAt}, {"testCompletedAt", "codeqr has no A/B tests", d.TestCompletedAt},
		{"webhookIds", "select links on the webhook instead (linkIds)", d.WebhookIDs},
	} {
		if v := strings.TrimSpace(string(f.v)); v != "" && v != "null" {
			return errs.Invalid("%s%s is not offered by codeqr (%s); send null or leave it out", path, f.name, f.why)
		}
	}
	return nil
}

// UpdateRequest is the body of PATCH /api/links/{id} and the "data" of PATCH
// /api/links/bulk. Every field is an Optional: absent leaves it alone, null
// clears it, a value sets it. tagIds and tagNames, when either is present,
// replace the link's tags with their union (null or [] removes all tags).
// password: a string sets it, null removes it.
type UpdateRequest struct {
	URL             Optional[string]            `json:"url"`
	Domain          Optional[string]            `json:"domain"`
	Key             Optional[string]            `json:"key"`
	ExternalID      Optional[string]            `json:"externalId"`
	Archived        Optional[bool]              `json:"archived"`
	ExpiresAt       Optional[string]            `json:"expiresAt"`
	ExpiredURL      Optional[string]            `json:"expiredUrl"`
	Password        Optional[string]            `json:"password"`
	Proxy           Optional[bool]              `json:"proxy"`
	Title           Optional[string]            `json:"title"`
	Description     Optional[string]            `json:"description"`
	Image           Optional[string]            `json:"image"`
	Video           Optional[string]            `json:"video"`
	Rewrite         Optional[bool]              `json:"rewrite"`
	DoIndex         Optional[bool]              `json:"doIndex"`
	IOS             Optional[string]            `json:"ios"`
	Android         Optional[string]            `json:"android"`
	Geo             Optional[map[string]string] `json:"geo"`
	PublicStats     Optional[bool]              `json:"publicStats"`
	TrackConversion Optional[bool]              `json:"trackConversion"`
	TagIDs          Optional[[]string]          `json:"tagIds"`
	TagNames        Optional[[]string]          `json:"tagNames"`
	Comments        Optional[string]            `json:"comments"`
	UTMSource       Optional[string]            `json:"utm_source"`
	UTMMedium       Optional[string]            `json:"utm_medium"`
	UTMCampaign     Optional[string]            `json:"utm_campaign"`
	UTMTerm         Optional[string]            `json:"utm_term"`
	UTMContent      Optional[string]            `json:"utm_content"`
	PartnerID       Optional[string]            `json:"partnerId"`
	FolderID        Optional[string]            `json:"folderId"`
	TagID           Optional[string]            `json:"tagId"` // Dub's single tag: with tagIds/tagNames, joins them; alone, replaces the tags
	DubUnsupported
}

func opt[T any](p *T) Optional[T] {
	if p == nil {
		return Optional[T]{}
	}
	return Some(*p)
}

func optSlice(s []string) Optional[[]string] {
	if s == nil {
		return Optional[[]string]{}
	}
	return Some(s)
}

// AsUpdate turns a create request into the update it means for an existing
// link (upsert): every field the request gives is set, the others are left
// alone. url is always set; domain and key only when given and not empty.
func (c CreateRequest) AsUpdate() UpdateRequest {
	u := UpdateRequest{
		URL:             Some(c.URL),
		ExternalID:      opt(c.ExternalID),
		Archived:        opt(c.Archived),
		ExpiresAt:       opt(c.ExpiresAt),
		ExpiredURL:      opt(c.ExpiredURL),
		Password:        opt(c.Password),
		Proxy:           opt(c.Proxy),
		Title:           opt(c.Title),
		Description:     opt(c.Description),
		Image:           opt(c.Image),
		Video:           opt(c.Video),
		Rewrite:         opt(c.Rewrite),
		DoIndex:         opt(c.DoIndex),
		IOS:             opt(c.IOS),
		Android:         opt(c.Android),
		PublicStats:     opt(c.PublicStats),
		TrackConversion: opt(c.TrackConversion),
		TagIDs:          optSlice(c.TagIDs),
		TagNames:        optSlice(c.TagNames),
		Comments:        opt(c.Comments),
		UTMSource:       opt(c.UTMSource),
		UTMMedium:       opt(c.UTMMedium),
		UTMCampaign:     opt(c.UTMCampaign),
		UTMTerm:         opt(c.UTMTerm),
		UTMContent:      opt(c.UTMContent),
		PartnerID:       opt(c.PartnerID),
		FolderID:        opt(c.FolderID),
	}
	if c.Geo != nil {
		u.Geo = Some(c.Geo)
	}
	if c.TagID != nil && *c.TagID != "" {
		u.TagID = Some(*c.TagID)
	}
	u.DubUnsupported = c.DubUnsupported
	if c.Domain != nil && strings.TrimSpace(*c.Domain) != "" {
		u.Domain = Some(*c.Domain)
	}
	if c.Key != nil && *c.Key != "" {
		u.Key = Some(*c.Key)
	}
	return u
}

// Validate checks a create request without touching the database. Checks that
// need the database (domain ownership, key and externalId uniqueness, tag ids)
// happen in the transaction.
func (c CreateRequest) Validate() error {
	if err := shortlinks.ValidateURL("url", c.URL); err != nil {
		return err
	}
	return applyFields(&record{}, c.AsUpdate(), "")
}

// Validate checks an update request without touching the database.
func (u UpdateRequest) Validate() error {
	return applyFields(&record{Link: Link{URL: "https://placeholder.invalid", Domain: "d", Key: "k"}}, u, "")
}

// applyFields writes the set fields of u into r, validating each. path
// prefixes field names in messages ("links[3]." in bulk requests). It does not
// touch the password, the tags or the database.
func applyFields(r *record, u UpdateRequest, path string) error {
	l := &r.Link
	if u.URL.Set {
		if u.URL.Null {
			return errs.Invalid("%surl must not be null", path)
		}
		if err := shortlinks.ValidateURL(path+"url", u.URL.Value); err != nil {
			return err
		}
		l.URL = u.URL.Value
	}
	if u.Domain.Set {
		d := strings.ToLower(strings.TrimSpace(u.Domain.Value))
		if u.Domain.Null || d == "" {
			return errs.Invalid("%sdomain must not be null or empty", path)
		}
		if len(d) > maxDomain || strings.ContainsAny(d, "/ \t\r\n\x00?#@") || !hostPort(d) {
			return errs.Invalid("%sdomain must be a host name, with a :port only as the server's own domain or a domain added with one", path)
		}
		l.Domain = d
	}
	if u.Key.Set {
		if u.Key.Null {
			return errs.Invalid("%skey must not be null", path)
		}
		if err := shortlinks.ValidateKey(u.Key.Value); err != nil {
			return errs.Invalid("%s%v", path, err)
		}
		l.Key = u.Key.Value
	}
	bools := []struct {
		dst  *bool
		o    Optional[bool]
		name string
	}{
		{&l.Archived, u.Archived, "archived"}, {&l.Proxy, u.Proxy, "proxy"}, {&l.Rewrite, u.Rewrite, "rewrite"},
		{&l.DoIndex, u.DoIndex, "doIndex"}, {&l.PublicStats, u.PublicStats, "publicStats"},
		{&l.TrackConversion, u.TrackConversion, "trackConversion"},
	}
	for _, b := range bools {
		if b.o.Set {
			if b.o.Null {
				return errs.Invalid("%s%s must be true or false, not null", path, b.name)
			}
			*b.dst = b.o.Value
		}
	}
	texts := []struct {
		dst   **string
		o     Optional[string]
		name  string
		max   int
		isURL bool
	}{
		{&l.ExternalID, u.ExternalID, "externalId", maxExternalID, false},
		{&l.ExpiredURL, u.ExpiredURL, "expiredUrl", 0, true},
		{&l.Title, u.Title, "title", maxTitle, false},
		{&l.Description, u.Description, "description", maxDescription, false},
		{&l.Image, u.Image, "image", 0, true},
		{&l.Video, u.Video, "video", 0, true},
		{&l.IOS, u.IOS, "ios", 0, true},
		{&l.Android, u.Android, "android", 0, true},
		{&l.Comments, u.Comments, "comments", maxComments, false},
		{&l.UTMSource, u.UTMSource, "utm_source", maxUTM, false},
		{&l.UTMMedium, u.UTMMedium, "utm_medium", maxUTM, false},
		{&l.UTMCampaign, u.UTMCampaign, "utm_campaign", maxUTM, false},
		{&l.UTMTerm, u.UTMTerm, "utm_term", maxUTM, false},
		{&l.UTMContent, u.UTMContent, "utm_content", maxUTM, false},
		{&l.PartnerID, u.PartnerID, "partnerId", maxPartnerID, false},
		{&l.FolderID, u.FolderID, "folderId", maxFolderID, false},
	}
	for _, t := range texts {
		if err := setText(t.dst, t.o, path+t.name, t.max, t.isURL); err != nil {
			return err
		}
	}
	if u.ExpiresAt.Set {
		if u.ExpiresAt.Null || u.ExpiresAt.Value == "" {
			l.ExpiresAt = nil
		} else {
			t, err := time.Parse(time.RFC3339, u.ExpiresAt.Value)
			if err != nil {
				return errs.Invalid("%sexpiresAt must be an RFC 3339 time such as 2030-01-31T12:00:00Z", path)
			}
			t = t.UTC().Truncate(time.Millisecond)
			if t.Year() < 1970 || t.Year() > 9999 {
				return errs.Invalid("%sexpiresAt must be between 1970 and 9999", path)
			}
			l.ExpiresAt = &t
		}
	}
	if u.Geo.Set {
		geo, err := checkGeo(u.Geo.Value, path)
		if err != nil {
			return err
		}
		l.Geo = geo
	}
	if err := checkTagRefs(u, path); err != nil {
		return err
	}
	if u.Password.Set && !u.Password.Null {
		if u.Password.Value == "" || len(u.Password.Value) > maxPassword || strings.ContainsRune(u.Password.Value, 0) {
			return errs.Invalid("%spassword must be 1 to %d bytes", path, maxPassword)
		}
	}
	return nil
}

// setText applies one nullable text field. An empty string clears it, like null.
func setText(dst **string, o Optional[string], field string, max int, isURL bool) error {
	if !o.Set {
		return nil
	}
	if o.Null || o.Value == "" {
		*dst = nil
		return nil
	}
	v := o.Value
	if isURL {
		if err := shortlinks.ValidateURL(field, v); err != nil {
			return err
		}
	} else {
		if utf8.RuneCountInString(v) > max {
			return errs.Invalid("%s must be at most %d characters", field, max)
		}
		if strings.ContainsRune(v, 0) {
			return errs.Invalid("%s must not contain NUL characters", field)
		}
	}
	*dst = &v
	return nil
}

// checkGeo validates a geo map; an empty map means no geo targeting (null).
func checkGeo(geo map[string]string, path string) (map[string]string, error) {
	if len(geo) == 0 {
		return nil, nil
	}
	if len(geo) > maxGeoEntries {
		return nil, errs.Invalid("%sgeo has more than %d entries", path, maxGeoEntries)
	}
	out := make(map[string]string, len(geo))
	for country, u := range geo {
		if !countryRE.MatchString(country) {
			return nil, errs.Invalid("%sgeo: %q is not a 2-letter upper-case ISO country code", path, truncate(country))
		}
		if err := shortlinks.ValidateURL(fmt.Sprintf("%sgeo.%s", path, country), u); err != nil {
			return nil, err
		}
		out[country] = u
	}
	return out, nil
}

// checkTagRefs validates tag ids and names before they reach SQL.
func checkTagRefs(u UpdateRequest, path string) error {
	if len(u.TagIDs.Value)+len(u.TagNames.Value) > maxTagsPerRequest {
		return errs.Invalid("%stags: at most %d tags per link", path, maxTagsPerRequest)
	}
	for i, id := range u.TagIDs.Value {
		if id == "" || len(id) > maxTagID || strings.ContainsRune(id, 0) {
			return errs.Invalid("%stagIds[%d] is not a tag id", path, i)
		}
	}
	for i, name := range u.TagNames.Value {
		n := strings.TrimSpace(name)
		if n == "" || utf8.RuneCountInString(n) > 50 || strings.ContainsRune(n, 0) {
			return errs.Invalid("%stagNames[%d] must be 1 to 50 characters", path, i)
		}
	}
	return nil
}

// hostPort reports whether d is a host name with at most one :port suffix of
// digits (the server's own domain may carry its port: 127.0.0.1:8080).
func hostPort(d string) bool {
	h, port, ok := strings.Cut(d, ":")
	if !ok {
		return true
	}
	if h == "" || port == "" || len(port) > 5 {
		return false
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
