package e2e

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// A receiver that fails twice gets the same event three times, byte for byte,
// on the configured retry schedule (100ms, 200ms ± 20 %), and then no more.
func TestRetriesThroughRealServer(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		rcv := newReceiver(t)
		rcv.failNextN(2)
		srv := startServer(t, databaseURL, dataDir)
		c := srv.client(srv.createKey("e2e"))
		_, secret := subscribe(t, c, rcv.URL(), "link.created")
		c.must(http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/retry"}, http.StatusOK)

		within(t, 20*time.Second, func() bool { return rcv.count() >= 3 }, func() string {
			return "receiver saw fewer than 3 attempts"
		})
		// The delivery row settles: three attempts, no longer pending.
		st := openStore(t, databaseURL, dataDir)
		within(t, 10*time.Second, func() bool {
			return storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE attempts = 3 AND status <> 'pending'") == 1
		}, func() string { return "the delivery row did not settle after 3 attempts" })

		got := rcv.all()
		if len(got) != 3 {
			t.Fatalf("receiver saw %d attempts, want exactly 3", len(got))
		}
		wantStatus := []int{500, 500, 200}
		for i, d := range got {
			if d.Status != wantStatus[i] {
				t.Errorf("attempt %d answered %d, want %d", i+1, d.Status, wantStatus[i])
			}
			checkDelivery(t, d, secret)
			if !bytes.Equal(d.Body, got[0].Body) {
				t.Errorf("attempt %d body differs:\n%s\nvs\n%s", i+1, d.Body, got[0].Body)
			}
			if d.Header.Get("webhook-id") != got[0].Header.Get("webhook-id") {
				t.Errorf("attempt %d webhook-id %q, first was %q", i+1, d.Header.Get("webhook-id"), got[0].Header.Get("webhook-id"))
			}
		}
		// Schedule 100ms, 200ms with ±20 % jitter: the gaps are at least 80 and 160 ms.
		if gap := got[1].At.Sub(got[0].At); gap < 80*time.Millisecond {
			t.Errorf("first retry came %s after the first attempt, want ≥ 80ms", gap)
		}
		if gap := got[2].At.Sub(got[1].At); gap < 160*time.Millisecond {
			t.Errorf("second retry came %s after the first retry, want ≥ 160ms", gap)
		}
	})
}
