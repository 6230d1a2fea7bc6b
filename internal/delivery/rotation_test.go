package delivery

import (
	"errors"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// Once the overlap after a rotation has passed, only the new secret signs: a
// receiver still holding the old secret rejects the delivery.
func TestRotatedSecretStopsSigningAfterOverlap(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, nil)
		project := newProject(t, st)
		oldSecret := newSecret(t)
		h := newHook(t, st, project, rc.URL, func(h *hook) { h.previous = oldSecret })
		// The overlap ended a second ago.
		mustWrite(t, st, "UPDATE webhooks SET previous_secret_until = $1 WHERE id = $2", store.Millis(time.Now().Add(-time.Second)), h.id)
		d := startDeliverer(t, st, testConfig(), options{})
		emit(t, st, d, project, 1)
		waitFor(t, 10*time.Second, "the delivery", func() bool { return rc.count() == 1 })
		rec := rc.requests()[0]
		if n := len(strings.Fields(rec.header.Get("webhook-signature"))); n != 1 {
			t.Fatalf("%d signature entries after the overlap, want 1", n)
		}
		verify(t, rec, h.secret)
		old, err := standardwebhooks.NewWebhook(oldSecret)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Verify(rec.body, rec.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Fatalf("old secret after the overlap: want ErrNoMatchingSignature, got %v", err)
		}
	})
}
