package links_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
)

var testCfg = config.Config{BaseURL: "https://go.example.com"}

type env struct {
	st      *store.Store
	svc     *links.Service
	tags    *tags.Service
	project string
	other   string
}

func newEnv(t *testing.T, st *store.Store) env {
	t.Helper()
	ctx := context.Background()
	ps := projects.NewService(st, nil)
	p1, _, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, _, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := tags.NewService(st, nil)
	return env{st: st, svc: links.NewService(st, events.NewWriter(nil, tickingClock()), tg, testCfg, nil), tags: tg, project: p1.ID, other: p2.ID}
}

// tickingClock advances 1 ms per call, so events sort by created_at in the
// order they were emitted.
func tickingClock() func() time.Time {
	var n atomic.Int64
	start := time.Now()
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

type storedEvent struct {
	Type string
	Data map[string]any
}

// eventsOf returns the stored events of a project, decoded from their payload.
func eventsOf(t *testing.T, st *store.Store, projectID string) []storedEvent {
	t.Helper()
	rows, err := st.Read().QueryContext(context.Background(), "SELECT type, payload FROM events WHERE project_id = $1 ORDER BY created_at, id", projectID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var typ, payload string
		if err := rows.Scan(&typ, &payload); err != nil {
			t.Fatal(err)
		}
		var env struct {
			ID    string         `json:"id"`
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(payload), &env); err != nil {
			t.Fatalf("payload %s: %v", payload, err)
		}
		if env.Event != typ || !strings.HasPrefix(env.ID, "evt_") {
			t.Fatalf("envelope %s does not match type %s", payload, typ)
		}
		out = append(out, storedEvent{Type: typ, Data: env.Data})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countLinks(t *testing.T, st *store.Store) int {
	return storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM links")
}

func wantKind(t *testing.T, err error, kind errs.Kind, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error kind %d, got nil", kind)
	}
	if errs.KindOf(err) != kind {
		t.Fatalf("want error kind %d, got %v (kind %d)", kind, err, errs.KindOf(err))
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not mention %q", err, contains)
	}
}

func ptr[T any](v T) *T { return &v }

// exampleLinkKeys are the field names of the link object in the contract's example.
func exampleLinkKeys(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../../shared/spec/examples/link.clicked.json")
	if err != nil {
		// The contract example lives outside the repository; the field list is
		// fixed here too so the test runs anywhere.
		return []string{"android", "archived", "clicks", "comments", "createdAt", "description", "doIndex", "domain", "expiredUrl", "expiresAt", "externalId", "geo", "id", "image", "ios", "key", "lastClicked", "leads", "partnerId", "passwordProtected", "projectId", "proxy", "publicStats", "qrCode", "rewrite", "saleAmount", "sales", "shortLink", "tags", "title", "trackConversion", "updatedAt", "url", "utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term", "video"}
	}
	var ex struct {
		Data struct {
			Link map[string]any `json:"link"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(ex.Data.Link))
	for k := range ex.Data.Link {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestCreateWithoutKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://shop.example.com/spring", UTMSource: ptr("newsletter"), TrackConversion: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(l.ID, "link_") || len(l.Key) != 7 || l.Domain != "go.example.com" {
			t.Fatalf("link %+v", l)
		}
		if l.ShortLink != "https://go.example.com/"+l.Key {
			t.Fatalf("shortLink %s", l.ShortLink)
		}
		if l.QRCode != "https://go.example.com/api/qr?url=https%3A%2F%2Fgo.example.com%2F"+l.Key+"%3Fqr%3D1" {
			t.Fatalf("qrCode %s", l.QRCode)
		}
		evs := eventsOf(t, st, e.project)
		if len(evs) != 1 || evs[0].Type != "link.created" {
			t.Fatalf("events %+v", evs)
		}
		d := evs[0].Data
		if got, want := keysOf(d), exampleLinkKeys(t); !slices.Equal(got, want) {
			t.Fatalf("link fields\n got %v\nwant %v", got, want)
		}
		if d["id"] != l.ID || d["url"] != "https://shop.example.com/spring" || d["utm_source"] != "newsletter" ||
			d["trackConversion"] != true || d["title"] != nil || d["geo"] != nil || d["projectId"] != e.project {
			t.Fatalf("payload %v", d)
		}
		if tg, ok := d["tags"].([]any); !ok || len(tg) != 0 {
			t.Fatalf("tags must be [], got %#v", d["tags"])
		}
		got, err := e.svc.Get(ctx, e.project, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(l)
		if string(a) != string(b) {
			t.Fatalf("Get differs from Create:\n%s\n%s", a, b)
		}
		if _, err := e.svc.Get(ctx, e.other, l.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("foreign Get: %v", err)
		}
	})
}

func TestCreateWithKeyConflictAndDomain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://a.example/", Key: ptr("spring")})
		if err != nil {
			t.Fatal(err)
		}
		if l.Key != "spring" {
			t.Fatalf("key %s", l.Key)
		}
		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://b.example/", Key: ptr("spring")})
		wantKind(t, err, errs.KindConflict, "spring")
		_, err = e.svc.Create(ctx, e.other, links.CreateRequest{URL: "https://b.example/", Key: ptr("spring")})
		wantKind(t, err, errs.KindConflict, "")
		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://b.example/", Key: ptr("api")})
		wantKind(t, err, errs.KindInvalid, "reserved")

		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://b.example/", Domain: ptr("brand.example")})
		wantKind(t, err, errs.KindInvalid, "domain")
		storetest.MustExec(t, st.Read(), "SELECT 1") // reader still fine
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO domains (id, project_id, slug, created_at, updated_at) VALUES ('dom_1', $1, 'brand.example', 0, 0)", e.project)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://b.example/", Domain: ptr("Brand.Example"), Key: ptr("spring")})
		if err != nil {
			t.Fatal(err)
		}
		if b.Domain != "brand.example" || b.ShortLink != "https://brand.example/spring" {
			t.Fatalf("link %+v", b)
		}
		_, err = e.svc.Create(ctx, e.other, links.CreateRequest{URL: "https://b.example/", Domain: ptr("brand.example")})
		wantKind(t, err, errs.KindInvalid, "domain")

		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://c.example/", ExternalID: ptr("ext-1")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://c.example/", ExternalID: ptr("ext-1")})
		wantKind(t, err, errs.KindConflict, "externalId")
		if _, err := e.svc.Create(ctx, e.other, links.CreateRequest{URL: "https://c.example/", ExternalID: ptr("ext-1")}); err != nil {
			t.Fatalf("externalId is unique per project only: %v", err)
		}
		if n := len(eventsOf(t, st, e.project)); n != 3 {
			t.Fatalf("want 3 link.created events, got %d", n)
		}
		if n := countLinks(t, st); n != 4 {
			t.Fatalf("want 4 links, got %d", n)
		}
	})
}

func TestCreateTags(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		tag, err := e.tags.Create(ctx, e.project, tags.CreateRequest{Name: "spring", Color: "green"})
		if err != nil {
			t.Fatal(err)
		}
		l, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://a.example/", TagIDs: []string{tag.ID}, TagNames: []string{"autumn", "spring"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Tags) != 2 || l.Tags[0].Name != "autumn" || l.Tags[1] != tag {
			t.Fatalf("tags %+v", l.Tags)
		}
		d := eventsOf(t, st, e.project)[0].Data
		if tg := d["tags"].([]any); len(tg) != 2 || tg[1].(map[string]any)["color"] != "green" {
			t.Fatalf("event tags %v", d["tags"])
		}
		list, err := e.svc.List(ctx, e.project, links.ListOptions{TagID: tag.ID})
		if err != nil || len(list) != 1 || len(list[0].Tags) != 2 {
			t.Fatalf("list by tag: %v %+v", err, list)
		}
		// An unknown tag id fails the create and leaves no trace, not even the
		// tag name that would have been created.
		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://b.example/", TagNames: []string{"winter"}, TagIDs: []string{"tag_nope"}})
		wantKind(t, err, errs.KindInvalid, "tag_nope")
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags WHERE name = 'winter'"); n != 0 {
			t.Fatalf("tag written by a failed create")
		}
		// Re-sending the same tags (mixed case sorts differently by collation) is a no-op.
		m, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://m.example/", Domain: ptr(""), TagNames: []string{"b", "B", "a", "Z"}})
		if err != nil || m.Domain != "go.example.com" {
			t.Fatalf("create with empty domain: %v %+v", err, m)
		}
		before := len(eventsOf(t, st, e.project))
		if _, err := e.svc.Update(ctx, e.project, m.ID, links.UpdateRequest{TagNames: links.Some([]string{"Z", "a", "B", "b"})}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Get(ctx, e.project, m.ID)
		if after := len(eventsOf(t, st, e.project)); after != before || len(got.Tags) != 4 {
			t.Fatalf("same tags again emitted an event (%d → %d) or lost tags %+v", before, after, got.Tags)
		}
		// Another project's tag id is unknown here.
		_, err = e.svc.Create(ctx, e.other, links.CreateRequest{URL: "https://b.example/", TagIDs: []string{tag.ID}})
		wantKind(t, err, errs.KindInvalid, "")
		if countLinks(t, st) != 2 {
			t.Fatal("failed creates wrote links")
		}
	})
}

func TestPasswordHashedNeverReturned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://a.example/", Password: ptr("hunter2-secret")})
		if err != nil {
			t.Fatal(err)
		}
		if !l.PasswordProtected {
			t.Fatal("passwordProtected should be true")
		}
		var hash string
		if err := st.Read().QueryRowContext(ctx, "SELECT password_hash FROM links WHERE id = $1", l.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$2") || strings.Contains(hash, "hunter2") {
			t.Fatalf("stored password is not a bcrypt hash: %q", hash)
		}
		b, _ := json.Marshal(l)
		payload := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events WHERE payload LIKE '%hunter2%' OR payload LIKE $1", "%"+hash+"%")
		if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), hash) || strings.Contains(string(b), `"password"`) || payload != 0 {
			t.Fatalf("password leaked: %s", b)
		}
		// Same password again: no change, no event. Clearing it: an event.
		if _, err := e.svc.Update(ctx, e.project, l.ID, links.UpdateRequest{Password: links.Some("hunter2-secret")}); err != nil {
			t.Fatal(err)
		}
		if n := len(eventsOf(t, st, e.project)); n != 1 {
			t.Fatalf("same password emitted an event (%d events)", n)
		}
		u, err := e.svc.Update(ctx, e.project, l.ID, links.UpdateRequest{Password: links.Null[string]()})
		if err != nil {
			t.Fatal(err)
		}
		evs := eventsOf(t, st, e.project)
		if u.PasswordProtected || len(evs) != 2 || evs[1].Data["passwordProtected"] != false {
			t.Fatalf("clear password: %+v %+v", u, evs)
		}
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://a.example/", Key: ptr("old"), Title: ptr("Spring"), Geo: map[string]string{"US": "https://us.example/"}})
		if err != nil {
			t.Fatal(err)
		}
		// No-op updates: nothing written, nothing emitted.
		for _, u := range []links.UpdateRequest{
			{},
			{Title: links.Some("Spring"), URL: links.Some("https://a.example/"), Key: links.Some("old"), Archived: links.Some(false)},
			{Geo: links.Some(map[string]string{"US": "https://us.example/"}), TagIDs: links.Some([]string{}), Description: links.Null[string]()},
		} {
			got, err := e.svc.Update(ctx, e.project, l.ID, u)
			if err != nil {
				t.Fatal(err)
			}
			if !got.UpdatedAt.Equal(l.UpdatedAt) {
				t.Fatalf("no-op update changed updatedAt")
			}
		}
		if n := len(eventsOf(t, st, e.project)); n != 1 {
			t.Fatalf("no-op updates emitted events: %d", n)
		}
		// A real change: new values in the event, key moved, title cleared.
		u, err := e.svc.Update(ctx, e.project, l.ID, links.UpdateRequest{
			Key: links.Some("new"), Title: links.Null[string](), Description: links.Some("d"), Archived: links.Some(true),
			ExpiresAt: links.Some("2030-01-31T12:00:00+01:00"), Geo: links.Null[map[string]string](),
		})
		if err != nil {
			t.Fatal(err)
		}
		if u.Key != "new" || u.Title != nil || *u.Description != "d" || !u.Archived || u.Geo != nil || u.ShortLink != "https://go.example.com/new" {
			t.Fatalf("updated %+v", u)
		}
		if u.ExpiresAt == nil || u.ExpiresAt.Format("2006-01-02T15:04:05Z07:00") != "2030-01-31T11:00:00Z" {
			t.Fatalf("expiresAt %v", u.ExpiresAt)
		}
		evs := eventsOf(t, st, e.project)
		if len(evs) != 2 || evs[1].Type != "link.updated" {
			t.Fatalf("events %+v", evs)
		}
		d := evs[1].Data
		if d["key"] != "new" || d["title"] != nil || d["description"] != "d" || d["archived"] != true || d["geo"] != nil ||
			d["expiresAt"] != "2030-01-31T11:00:00Z" || d["shortLink"] != "https://go.example.com/new" {
			t.Fatalf("updated payload %v", d)
		}
		// The old key is free again, the new one is taken.
		if _, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://b.example/", Key: ptr("old")}); err != nil {
			t.Fatalf("old key not released: %v", err)
		}
		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://b.example/", Key: ptr("new")})
		wantKind(t, err, errs.KindConflict, "")
		// Moving onto a taken key: 409, nothing changed.
		_, err = e.svc.Update(ctx, e.project, l.ID, links.UpdateRequest{Key: links.Some("old"), Title: links.Some("x")})
		wantKind(t, err, errs.KindConflict, "")
		got, _ := e.svc.Get(ctx, e.project, l.ID)
		if got.Key != "new" || got.Title != nil {
			t.Fatalf("failed update changed the link: %+v", got)
		}
		// Invalid values and foreign ids.
		_, err = e.svc.Update(ctx, e.project, l.ID, links.UpdateRequest{URL: links.Null[string]()})
		wantKind(t, err, errs.KindInvalid, "url")
		_, err = e.svc.Update(ctx, e.project, l.ID, links.UpdateRequest{Image: links.Some("javascript:alert(1)")})
		wantKind(t, err, errs.KindInvalid, "image")
		_, err = e.svc.Update(ctx, e.project, l.ID, links.UpdateRequest{Geo: links.Some(map[string]string{"us": "https://x.example/"})})
		wantKind(t, err, errs.KindInvalid, "geo")
		_, err = e.svc.Update(ctx, e.other, l.ID, links.UpdateRequest{Title: links.Some("x")})
		wantKind(t, err, errs.KindNotFound, "")
		if n := len(eventsOf(t, st, e.project)); n != 3 {
			t.Fatalf("want 3 events (created, updated, created), got %d", n)
		}
		if n := len(eventsOf(t, st, e.other)); n != 0 {
			t.Fatalf("foreign project got %d events", n)
		}
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://a.example/", Key: ptr("gone"), TagNames: []string{"t"}, Title: ptr("T")})
		if err != nil {
			t.Fatal(err)
		}
		wantKind(t, e.svc.Delete(ctx, e.other, l.ID), errs.KindNotFound, "")
		if err := e.svc.Delete(ctx, e.project, l.ID); err != nil {
			t.Fatal(err)
		}
		evs := eventsOf(t, st, e.project)
		if len(evs) != 2 || evs[1].Type != "link.deleted" {
			t.Fatalf("events %+v", evs)
		}
		if d := evs[1].Data; d["id"] != l.ID || d["title"] != "T" || len(d["tags"].([]any)) != 1 {
			t.Fatalf("deleted payload %v", d)
		}
		if _, err := e.svc.Get(ctx, e.project, l.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("get after delete: %v", err)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys WHERE key = 'gone'"); n != 0 {
			t.Fatal("key not released")
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM link_tags"); n != 0 {
			t.Fatal("link_tags left behind")
		}
		wantKind(t, e.svc.Delete(ctx, e.project, l.ID), errs.KindNotFound, "")
	})
}

func TestBulkAtomic(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		// A validation failure in one item: nothing written.
		_, err := e.svc.BulkCreate(ctx, e.project, []links.CreateRequest{
			{URL: "https://a.example/", TagNames: []string{"bulk"}}, {URL: "https://b.example/"}, {URL: "javascript:alert(1)"},
		})
		wantKind(t, err, errs.KindInvalid, "links[2].url")
		// A database-phase failure (a key taken by an earlier item): nothing written.
		_, err = e.svc.BulkCreate(ctx, e.project, []links.CreateRequest{
			{URL: "https://a.example/", Key: ptr("dup"), TagNames: []string{"bulk"}}, {URL: "https://b.example/", Key: ptr("dup")},
		})
		wantKind(t, err, errs.KindConflict, "links[1]")
		if countLinks(t, st) != 0 || len(eventsOf(t, st, e.project)) != 0 ||
			storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys") != 0 || storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags") != 0 {
			t.Fatal("a failed bulk create wrote something")
		}
		tooMany := make([]links.CreateRequest, links.MaxBulk+1)
		for i := range tooMany {
			tooMany[i].URL = "https://a.example/"
		}
		_, err = e.svc.BulkCreate(ctx, e.project, tooMany)
		wantKind(t, err, errs.KindInvalid, "100")

		made, err := e.svc.BulkCreate(ctx, e.project, []links.CreateRequest{{URL: "https://a.example/"}, {URL: "https://b.example/"}, {URL: "https://c.example/"}})
		if err != nil || len(made) != 3 {
			t.Fatalf("bulk create: %v", err)
		}
		if evs := eventsOf(t, st, e.project); len(evs) != 3 || evs[2].Type != "link.created" {
			t.Fatalf("want one link.created per link, got %+v", evs)
		}
		idList := []string{made[0].ID, made[1].ID, made[2].ID}

		// Bulk update: an unknown id fails the batch; a good one updates all.
		_, err = e.svc.BulkUpdate(ctx, e.project, append(slices.Clone(idList), "link_nope"), links.UpdateRequest{Archived: links.Some(true)})
		wantKind(t, err, errs.KindNotFound, "")
		_, err = e.svc.BulkUpdate(ctx, e.project, idList, links.UpdateRequest{Key: links.Some("k")})
		wantKind(t, err, errs.KindInvalid, "key")
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM links WHERE archived = TRUE"); n != 0 {
			t.Fatal("failed bulk update wrote")
		}
		up, err := e.svc.BulkUpdate(ctx, e.project, idList, links.UpdateRequest{Archived: links.Some(true), UTMSource: links.Some("bulk")})
		if err != nil || len(up) != 3 || !up[1].Archived {
			t.Fatalf("bulk update: %v %+v", err, up)
		}
		if evs := eventsOf(t, st, e.project); len(evs) != 6 || evs[5].Type != "link.updated" || evs[5].Data["utm_source"] != "bulk" {
			t.Fatalf("want one link.updated per link, got %d", len(evs))
		}
		archived := true
		if list, err := e.svc.List(ctx, e.project, links.ListOptions{Archived: &archived}); err != nil || len(list) != 3 {
			t.Fatalf("list archived: %v %d", err, len(list))
		}

		// Bulk delete: foreign and unknown ids are skipped.
		foreign, err := e.svc.Create(ctx, e.other, links.CreateRequest{URL: "https://f.example/"})
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.svc.BulkDelete(ctx, e.project, []string{idList[0], idList[1], foreign.ID, "link_nope", idList[0]})
		if err != nil || n != 2 {
			t.Fatalf("bulk delete: %d %v", n, err)
		}
		if countLinks(t, st) != 2 {
			t.Fatal("bulk delete removed the wrong links")
		}
		if evs := eventsOf(t, st, e.project); len(evs) != 8 || evs[7].Type != "link.deleted" {
			t.Fatalf("want one link.deleted per link, got %d", len(evs))
		}
	})
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, created, err := e.svc.Upsert(ctx, e.project, links.CreateRequest{URL: "https://a.example/", ExternalID: ptr("crm-1"), Title: ptr("A")})
		if err != nil || !created {
			t.Fatalf("upsert create: %v %v", created, err)
		}
		u, created, err := e.svc.Upsert(ctx, e.project, links.CreateRequest{URL: "https://b.example/", ExternalID: ptr("crm-1")})
		if err != nil || created || u.ID != l.ID || u.URL != "https://b.example/" || u.Title == nil || *u.Title != "A" {
			t.Fatalf("upsert update by externalId: %v %v %+v", created, err, u)
		}
		if _, created, err = e.svc.Upsert(ctx, e.project, links.CreateRequest{URL: "https://b.example/", ExternalID: ptr("crm-1")}); err != nil || created {
			t.Fatalf("upsert no-op: %v %v", created, err)
		}
		// By key, then by url.
		k, created, err := e.svc.Upsert(ctx, e.project, links.CreateRequest{URL: "https://c.example/", Key: ptr("ck")})
		if err != nil || !created {
			t.Fatal(err)
		}
		k2, created, err := e.svc.Upsert(ctx, e.project, links.CreateRequest{URL: "https://c2.example/", Key: ptr("ck")})
		if err != nil || created || k2.ID != k.ID || k2.URL != "https://c2.example/" {
			t.Fatalf("upsert by key: %v %v", created, err)
		}
		byURL, created, err := e.svc.Upsert(ctx, e.project, links.CreateRequest{URL: "https://c2.example/", Comments: ptr("found")})
		if err != nil || created || byURL.ID != k.ID || byURL.Comments == nil {
			t.Fatalf("upsert by url: %v %v %+v", created, err, byURL)
		}
		var types []string
		for _, ev := range eventsOf(t, st, e.project) {
			types = append(types, ev.Type)
		}
		want := []string{"link.created", "link.updated", "link.created", "link.updated", "link.updated"}
		if !slices.Equal(types, want) {
			t.Fatalf("events %v, want %v", types, want)
		}
		// Another project's key is not a match: creating there conflicts.
		_, _, err = e.svc.Upsert(ctx, e.other, links.CreateRequest{URL: "https://c.example/", Key: ptr("ck")})
		wantKind(t, err, errs.KindConflict, "")
	})
}

// TestCreateInTxCommitsTogether: the link and its event commit, or roll back,
// with the caller's transaction.
func TestCreateInTxCommitsTogether(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		boom := errors.New("caller fails after creating")
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := e.svc.CreateInTx(ctx, tx, e.project, links.CreateRequest{URL: "https://a.example/", Key: ptr("ref")}); err != nil {
				return err
			}
			if n := storetest.Count(t, tx, "SELECT COUNT(*) FROM events WHERE type = 'link.created'"); n != 1 {
				t.Errorf("event not written in the caller's tx (%d)", n)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if countLinks(t, st) != 0 || len(eventsOf(t, st, e.project)) != 0 || storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys") != 0 {
			t.Fatal("rolled-back CreateInTx left rows")
		}
		var l links.Link
		err = st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			l, err = e.svc.CreateInTx(ctx, tx, e.project, links.CreateRequest{URL: "https://a.example/", Key: ptr("ref")})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		evs := eventsOf(t, st, e.project)
		if countLinks(t, st) != 1 || len(evs) != 1 || evs[0].Data["id"] != l.ID {
			t.Fatal("committed CreateInTx missing link or event")
		}
	})
}

func TestInfoAndList(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		var made []links.Link
		for i, u := range []string{"https://one.example/a_b%25", "https://two.example/", "https://three.example/"} {
			l, err := e.svc.Create(ctx, e.project, links.CreateRequest{URL: u, ExternalID: ptr("e" + string(rune('0'+i))), Title: ptr("Title " + string(rune('A'+i)))})
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, l)
		}
		list, err := e.svc.List(ctx, e.project, links.ListOptions{})
		if err != nil || len(list) != 3 || list[0].ID != made[2].ID || list[2].ID != made[0].ID {
			t.Fatalf("list newest first: %v", err)
		}
		if list, _ := e.svc.List(ctx, e.project, links.ListOptions{Search: "TWO"}); len(list) != 1 || list[0].ID != made[1].ID {
			t.Fatalf("search url: %+v", list)
		}
		if list, _ := e.svc.List(ctx, e.project, links.ListOptions{Search: "title c"}); len(list) != 1 || list[0].ID != made[2].ID {
			t.Fatalf("search title: %+v", list)
		}
		if list, _ := e.svc.List(ctx, e.project, links.ListOptions{Search: "_b%"}); len(list) != 1 || list[0].ID != made[0].ID {
			t.Fatalf("search escapes LIKE wildcards: %+v", list)
		}
		if list, _ := e.svc.List(ctx, e.project, links.ListOptions{Page: 2, PageSize: 2}); len(list) != 1 || list[0].ID != made[0].ID {
			t.Fatalf("page 2: %+v", list)
		}
		if list, _ := e.svc.List(ctx, e.project, links.ListOptions{Domain: "go.example.com"}); len(list) != 3 {
			t.Fatalf("domain filter: %d", len(list))
		}
		if list, _ := e.svc.List(ctx, e.other, links.ListOptions{}); len(list) != 0 {
			t.Fatalf("other project sees links")
		}
		for _, q := range []links.InfoQuery{{LinkID: made[1].ID}, {ExternalID: "e1"}, {Domain: "go.example.com", Key: made[1].Key}, {Key: made[1].Key}} {
			l, err := e.svc.Info(ctx, e.project, q)
			if err != nil || l.ID != made[1].ID {
				t.Fatalf("info %+v: %v", q, err)
			}
			if _, err := e.svc.Info(ctx, e.other, q); errs.KindOf(err) != errs.KindNotFound {
				t.Fatalf("foreign info %+v: %v", q, err)
			}
		}
		_, err = e.svc.Info(ctx, e.project, links.InfoQuery{})
		wantKind(t, err, errs.KindBadInput, "")
	})
}
