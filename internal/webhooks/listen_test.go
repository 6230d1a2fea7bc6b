package webhooks

import (
	"context"
	"testing"

	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestListenCreateRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		project := newProject(t, st)
		svc := NewService(st, events.NewWriter(nil, nil), testConfig(), Options{})
		for name, req := range map[string]CreateRequest{
			"listen url without the flag": {Name: "x", URL: delivery.ListenURL, Triggers: []events.Type{events.LinkCreated}},
			"flag with a url":             {Name: "x", URL: "https://example.com", Listen: true, Triggers: []events.Type{events.LinkCreated}},
			"flag without triggers":       {Name: "x", Listen: true},
		} {
			if _, err := svc.Create(ctx, project, req); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		// A listen webhook gets the fixed url, and editing its name keeps it one.
		wh, err := svc.Create(ctx, project, CreateRequest{Name: "listen", Listen: true, Triggers: []events.Type{events.LinkCreated}})
		if err != nil {
			t.Fatal(err)
		}
		if wh.URL != delivery.ListenURL {
			t.Fatalf("url %q", wh.URL)
		}
		got, err := svc.Update(ctx, project, wh.ID, UpdateRequest{Name: Some("renamed")})
		if err != nil {
			t.Fatalf("rename: %v", err)
		}
		if got.URL != delivery.ListenURL || got.Name != "renamed" {
			t.Fatalf("after rename: %+v", got)
		}
	})
}
