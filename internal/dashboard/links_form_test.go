package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestLinkUTMBuilderAndExpiry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		b := e.login("one@test.example")
		// Without JavaScript the expiry is UTC, and the label says so; the
		// script's hooks are there.
		p := b.get("/app/links/new")
		must(t, p, http.StatusOK, `<label for="f-expiresAt" data-local-label>Expires at (UTC)</label>`, `data-utc`, `data-utm-final`, "Final URL")

		// The UTM fields replace their parameters; the rest of the query, a
		// pasted UTM parameter whose field is empty, and the fragment stay.
		p = b.post("/app/links", url.Values{"url": {"https://shop.example/p?ref=x&utm_source=old&utm_medium=paste#top"}, "key": {"utm"},
			"utm_source": {"mail"}, "utm_campaign": {"spring sale/2030"}, "expiresAt": {"2030-01-31T12:00"}, "expiredUrl": {"https://shop.example/over"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", p.Status, p.Body)
		}
		l, err := e.Links.Info(ctx, e.P1.ID, links.InfoQuery{Domain: "go.test", Key: "utm"})
		if err != nil {
			t.Fatal(err)
		}
		const final = "https://shop.example/p?ref=x&utm_source=mail&utm_medium=paste&utm_campaign=spring+sale%2F2030#top"
		if l.URL != final {
			t.Fatalf("url %q, want %q", l.URL, final)
		}
		if str(l.UTMSource) != "mail" || str(l.UTMMedium) != "paste" || str(l.UTMCampaign) != "spring sale/2030" || l.UTMTerm != nil {
			t.Fatalf("utm fields: %v %v %v %v", str(l.UTMSource), str(l.UTMMedium), str(l.UTMCampaign), l.UTMTerm)
		}
		if l.ExpiresAt == nil || !l.ExpiresAt.Equal(time.Date(2030, 1, 31, 12, 0, 0, 0, time.UTC)) {
			t.Fatalf("expiresAt %v, want 2030-01-31 12:00 UTC", l.ExpiresAt)
		}
		// The edit form shows the final URL (also without JavaScript) and the UTC expiry.
		p = b.get("/app/links/" + l.ID)
		must(t, p, http.StatusOK, `value="2030-01-31T12:00"`)
		if !strings.Contains(html.UnescapeString(p.Body), "data-utm-final>"+final+"</output>") {
			t.Fatalf("the edit form's final URL is not %s", final)
		}
		// Saving again changes nothing; a changed field replaces its parameter.
		v := url.Values{"url": {l.URL}, "key": {"utm"}, "domain": {"go.test"}, "utm_source": {"ads"}, "utm_medium": {"paste"},
			"utm_campaign": {"spring sale/2030"}, "expiresAt": {"2030-01-31T12:00"}, "expiredUrl": {"https://shop.example/over"}}
		if p := b.post("/app/links/"+l.ID, v); p.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", p.Status, p.Body)
		}
		l, _ = e.Links.Get(ctx, e.P1.ID, l.ID)
		if want := "https://shop.example/p?ref=x&utm_source=ads&utm_medium=paste&utm_campaign=spring+sale%2F2030#top"; l.URL != want {
			t.Fatalf("edited url %q, want %q", l.URL, want)
		}
		// A bad time is the field's message; the form keeps the final URL.
		v.Set("expiresAt", "tomorrow")
		p = b.post("/app/links/"+l.ID, v)
		must(t, p, http.StatusUnprocessableEntity, `id="e-expiresAt"`, "expiresAt must be")
		if !strings.Contains(html.UnescapeString(p.Body), "data-utm-final>https://shop.example/p?ref=x&utm_source=ads&") {
			t.Fatal("the refused form lost its final URL")
		}
	})
}

func TestTagsScreen(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.Links.Create(ctx, e.P1.ID, links.CreateRequest{URL: "https://example.com/", Key: ptr("tagged"), TagNames: []string{"promo"}})
		if err != nil {
			t.Fatal(err)
		}
		b := e.login("one@test.example")
		must(t, b.get("/app/links"), http.StatusOK, `href="/app/tags"`, "Manage tags")
		p := b.get("/app/tags")
		must(t, p, http.StatusOK, "<h1>Tags</h1>", `value="promo"`, "Create tag")
		tagID := l.Tags[0].ID

		// Create, with the service's messages.
		must(t, b.post("/app/tags", url.Values{"name": {"promo"}, "color": {"red"}}), http.StatusConflict, "already exists")
		must(t, b.post("/app/tags", url.Values{"name": {"q3"}, "color": {"violet"}}), http.StatusUnprocessableEntity, "tag color must be one of")
		if p := b.post("/app/tags", url.Values{"name": {"q3"}, "color": {"green"}}); p.Status != http.StatusSeeOther || p.Location != "/app/tags?done=tag-created" {
			t.Fatalf("create: %d %q\n%s", p.Status, p.Location, p.Body)
		}
		// Rename and recolour: the link carries the new name.
		must(t, b.post("/app/tags/"+tagID, url.Values{"name": {"q3"}, "color": {"blue"}}), http.StatusConflict, "already exists", `value="q3"`)
		if p := b.post("/app/tags/"+tagID, url.Values{"name": {"summer"}, "color": {"pink"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("rename: %d\n%s", p.Status, p.Body)
		}
		got, _ := e.Links.Get(ctx, e.P1.ID, l.ID)
		if len(got.Tags) != 1 || got.Tags[0].Name != "summer" || got.Tags[0].Color != "pink" {
			t.Fatalf("link tags after rename: %+v", got.Tags)
		}
		// Another project's tag: 404, and unchanged.
		two := e.login("two@test.example")
		must(t, two.post("/app/tags/"+tagID, url.Values{"name": {"stolen"}, "color": {"red"}}), http.StatusNotFound)
		must(t, two.post("/app/tags/"+tagID+"/delete", url.Values{}), http.StatusNotFound)
		if p := two.get("/app/tags"); strings.Contains(p.Body, "summer") {
			t.Fatal("user two sees project one's tags")
		}
		// Delete asks first, then the tag leaves the link.
		p = b.get("/app/tags")
		if !strings.Contains(p.Body, `action="/app/tags/`+tagID+`/delete" class="inline" data-confirm="Delete the tag summer?`) {
			t.Fatal("deleting a tag does not ask first")
		}
		if p := b.post("/app/tags/"+tagID+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d\n%s", p.Status, p.Body)
		}
		got, _ = e.Links.Get(ctx, e.P1.ID, l.ID)
		if len(got.Tags) != 0 {
			t.Fatalf("link still tagged: %+v", got.Tags)
		}
		must(t, b.get("/app/tags"), http.StatusOK, `value="q3"`)
	})
}
