package events_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func seed(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for _, s := range []string{
			"INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p1','p1','p',0,0), ('p2','p2','p',0,0)",
			// all: every project event; clicks: link.clicked on link l1; bots: same with includeBots;
			// off: disabled; other: another project.
			"INSERT INTO webhooks (id, project_id, name, url, secret, include_bots, disabled_at, created_at, updated_at) VALUES " +
				"('all','p1','a','https://x','s',FALSE,NULL,0,0), ('clicks','p1','c','https://x','s',FALSE,NULL,0,0)," +
				"('bots','p1','b','https://x','s',TRUE,NULL,0,0), ('off','p1','o','https://x','s',FALSE,5,0,0), ('other','p2','x','https://x','s',FALSE,NULL,0,0)",
			"INSERT INTO webhook_triggers (webhook_id, event_type) VALUES ('all','link.created'), ('clicks','link.clicked'), ('bots','link.clicked'), ('off','link.created'), ('other','link.created')",
			"INSERT INTO webhook_resources (webhook_id, kind, resource_id) VALUES ('clicks','link','l1'), ('bots','link','l1')",
		} {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func emit(t *testing.T, st *store.Store, w *events.Writer, e events.Event) string {
	t.Helper()
	var id string
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		id, err = w.Emit(context.Background(), tx, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func deliveries(t *testing.T, st *store.Store, eventID string) map[string]string {
	t.Helper()
	rows, err := st.Read().QueryContext(context.Background(), "SELECT webhook_id, status FROM deliveries WHERE event_id = $1", eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var w, s string
		if err := rows.Scan(&w, &s); err != nil {
			t.Fatal(err)
		}
		out[w] = s
	}
	return out
}

func TestFanOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		seed(t, st)
		notified := 0
		w := events.NewWriter(func() { notified++ }, nil)
		at := time.Date(2026, 11, 26, 16, 41, 52, 346_000_000, time.UTC)
		id := emit(t, st, w, events.Event{ProjectID: "p1", Type: events.LinkCreated, CreatedAt: at, Data: map[string]string{"id": "l1"}})
		if !regexp.MustCompile(`^evt_[0-9A-Za-z]{25}$`).MatchString(id) {
			t.Fatalf("event id %q", id)
		}
		if got := deliveries(t, st, id); len(got) != 2 || got["all"] != "pending" || got["off"] != "skipped" {
			t.Fatalf("project event deliveries: %v", got)
		}
		var payload string
		if err := st.Read().QueryRowContext(context.Background(), "SELECT payload FROM events WHERE id = $1", id).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		want := `{"id":"` + id + `","event":"link.created","createdAt":"2026-11-26T16:41:52.346Z","data":{"id":"l1"}}`
		if payload != want {
			t.Fatalf("payload\n got %s\nwant %s", payload, want)
		}
		human := emit(t, st, w, events.Event{ProjectID: "p1", Type: events.LinkClicked, ResourceID: "l1", Data: map[string]any{}})
		if got := deliveries(t, st, human); len(got) != 2 || got["clicks"] != "pending" || got["bots"] != "pending" {
			t.Fatalf("scoped click deliveries: %v", got)
		}
		bot := emit(t, st, w, events.Event{ProjectID: "p1", Type: events.LinkClicked, ResourceID: "l1", Bot: true, Data: map[string]any{}})
		if got := deliveries(t, st, bot); len(got) != 1 || got["bots"] != "pending" {
			t.Fatalf("bot click deliveries: %v", got)
		}
		elsewhere := emit(t, st, w, events.Event{ProjectID: "p1", Type: events.LinkClicked, ResourceID: "l2", Data: map[string]any{}})
		if got := deliveries(t, st, elsewhere); len(got) != 0 {
			t.Fatalf("unselected link got deliveries: %v", got)
		}
		test := emit(t, st, w, events.Event{ProjectID: "p1", Type: events.SaleCreated, TestWebhookID: "clicks", Data: map[string]any{}})
		if got := deliveries(t, st, test); len(got) != 1 || got["clicks"] != "pending" {
			t.Fatalf("test deliveries: %v", got)
		}
		if notified != 4 {
			t.Fatalf("notified %d times, want 4 (not for the event with no deliveries)", notified)
		}
		// A deleted resource leaves every selection.
		err := st.InTx(context.Background(), func(tx *store.Tx) error { return events.ForgetResource(context.Background(), tx, "l1") })
		if err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM webhook_resources"); n != 0 {
			t.Fatalf("%d selections left", n)
		}
	})
}

func TestEmitRefusesWhatTheContractForbids(t *testing.T) {
	t.Parallel()
	st := storetest.New(t, "sqlite")
	seed(t, st)
	w := events.NewWriter(nil, nil)
	for _, e := range []events.Event{
		{ProjectID: "p1", Type: "link.exploded"},
		{ProjectID: "p1", Type: events.QRCodeScanned},                // scoped without a resource
		{ProjectID: "p1", Type: events.LinkCreated, Data: func() {}}, // not JSON
	} {
		err := st.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := w.Emit(context.Background(), tx, e)
			return err
		})
		if err == nil {
			t.Fatalf("%+v accepted", e.Type)
		}
	}
	if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events"); n != 0 {
		t.Fatalf("%d events written", n)
	}
	if len(events.AllTypes()) != 15 {
		t.Fatal("the contract has exactly fifteen types")
	}
	var env events.Envelope
	b, _ := events.Body(events.Event{ID: "evt_x", Type: events.PageVisited, CreatedAt: time.Unix(0, 0), Data: nil})
	if err := json.Unmarshal(b, &env); err != nil || env.CreatedAt != "1970-01-01T00:00:00.000Z" {
		t.Fatalf("envelope %s", b)
	}
}
