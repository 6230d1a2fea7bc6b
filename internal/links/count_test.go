package links_test

import (
	"context"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func str(s string) *string { return &s }

// Count and CountBy apply List's filters; folderId is stored, filtered and
// grouped; ext_<externalId> names a link; the server's own domain with its
// port is accepted as a link's domain.
func TestCountFoldersAndExternalIDs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		mk := func(req links.CreateRequest) links.Link {
			t.Helper()
			l, err := e.svc.Create(ctx, e.project, req)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		a := mk(links.CreateRequest{URL: "https://a.example/", FolderID: str("fold_1"), TagNames: []string{"x"}, ExternalID: str("ext-a")})
		mk(links.CreateRequest{URL: "https://b.example/", FolderID: str("fold_1")})
		mk(links.CreateRequest{URL: "https://c.example/"})
		if _, err := e.svc.Create(ctx, e.other, links.CreateRequest{URL: "https://d.example/", FolderID: str("fold_1")}); err != nil {
			t.Fatal(err)
		}
		if a.FolderID == nil || *a.FolderID != "fold_1" || a.TagID == nil || *a.TagID != a.Tags[0].ID || a.WorkspaceID != e.project ||
			a.Password != nil || a.WebhookIDs == nil {
			t.Fatalf("link %+v", a)
		}
		if n, err := e.svc.Count(ctx, e.project, links.ListOptions{}); err != nil || n != 3 {
			t.Fatalf("count %d %v", n, err)
		}
		if n, err := e.svc.Count(ctx, e.project, links.ListOptions{FolderID: "fold_1", TagNames: []string{"x"}}); err != nil || n != 1 {
			t.Fatalf("count by folder and tag name %d %v", n, err)
		}
		if n, _ := e.svc.Count(ctx, e.project, links.ListOptions{TenantID: "t"}); n != 0 {
			t.Fatalf("tenant filter matched %d", n)
		}
		rows, err := e.svc.CountBy(ctx, e.project, links.ListOptions{}, "folderId")
		if err != nil || len(rows) != 2 || *rows[0]["folderId"].(*string) != "fold_1" || rows[0]["_count"] != int64(2) ||
			rows[1]["folderId"].(*string) != nil || rows[1]["_count"] != int64(1) {
			t.Fatalf("by folder %v %v", rows, err)
		}
		rows, err = e.svc.CountBy(ctx, e.project, links.ListOptions{}, "tagId")
		if err != nil || len(rows) != 1 || *rows[0]["tagId"].(*string) != a.Tags[0].ID {
			t.Fatalf("by tag %v %v", rows, err)
		}
		rows, err = e.svc.CountBy(ctx, e.project, links.ListOptions{}, "domain")
		if err != nil || len(rows) != 1 || rows[0]["_count"] != int64(3) {
			t.Fatalf("by domain %v %v", rows, err)
		}
		if _, err := e.svc.CountBy(ctx, e.project, links.ListOptions{}, "color"); errs.KindOf(err) != errs.KindBadInput {
			t.Fatalf("bad groupBy: %v", err)
		}

		// ext_<externalId> in Get, Update and Delete; null clears the folder.
		got, err := e.svc.Get(ctx, e.project, "ext_ext-a")
		if err != nil || got.ID != a.ID {
			t.Fatalf("get by ext_: %+v %v", got, err)
		}
		up, err := e.svc.Update(ctx, e.project, "ext_ext-a", links.UpdateRequest{FolderID: links.Null[string]()})
		if err != nil || up.ID != a.ID || up.FolderID != nil {
			t.Fatalf("update by ext_: %+v %v", up, err)
		}
		if _, err := e.svc.Get(ctx, e.other, "ext_ext-a"); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("other project by ext_: %v", err)
		}
		if id, err := e.svc.DeleteRef(ctx, e.project, "ext_ext-a"); err != nil || id != a.ID {
			t.Fatalf("delete by ext_: %s %v", id, err)
		}

		// Dub's single tagId is a tag id; Dub's fields for features codeqr
		// lacks are refused by name, unless null.
		tagged := mk(links.CreateRequest{URL: "https://t.example/", TagID: a.TagID})
		if len(tagged.Tags) != 1 || tagged.Tags[0].ID != *a.TagID {
			t.Fatalf("tagId: %+v", tagged.Tags)
		}
		mk(links.CreateRequest{URL: "https://n.example/", DubUnsupported: links.DubUnsupported{TenantID: []byte("null")}})
		_, err = e.svc.Create(ctx, e.project, links.CreateRequest{URL: "https://n.example/", DubUnsupported: links.DubUnsupported{WebhookIDs: []byte(`["wh_1"]`)}})
		if errs.KindOf(err) != errs.KindInvalid || !strings.Contains(err.Error(), "webhookIds is not offered") {
			t.Fatalf("webhookIds: %v", err)
		}

		// The base domain with its port is the server's own.
		withPort := links.NewService(st, events.NewWriter(nil, tickingClock()), e.tags, config.Config{BaseURL: "http://127.0.0.1:8080"}, nil)
		l, err := withPort.Create(ctx, e.project, links.CreateRequest{URL: "https://p.example/", Domain: str("127.0.0.1:8080"), Key: str("port")})
		if err != nil || l.Domain != "127.0.0.1:8080" || l.ShortLink != "http://127.0.0.1:8080/port" {
			t.Fatalf("base domain with port: %+v %v", l, err)
		}
		if _, err := withPort.Create(ctx, e.project, links.CreateRequest{URL: "https://p.example/", Domain: str("127.0.0.1:80x")}); errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("bad port: %v", err)
		}
		if _, err := withPort.Create(ctx, e.project, links.CreateRequest{URL: "https://p.example/", Domain: str("127.0.0.1:9090")}); errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("another port is not the server's domain: %v", err)
		}
	})
}
