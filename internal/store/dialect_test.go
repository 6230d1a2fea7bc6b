package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// NowMillis is the database's clock in the schema's unit: within a few
// seconds of this process's clock (the same machine), and usable in
// arithmetic with a parameter, as lease expressions use it.
func TestNowMillis(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		before := time.Now().Add(-2 * time.Second)
		var now, later int64
		if err := st.Read().QueryRowContext(context.Background(),
			"SELECT "+st.Dialect().NowMillis()+", "+st.Dialect().NowMillis()+" + $1", int64(60_000)).Scan(&now, &later); err != nil {
			t.Fatal(err)
		}
		after := time.Now().Add(2 * time.Second)
		if got := store.FromMillis(now); got.Before(before) || got.After(after) {
			t.Errorf("NowMillis = %d (%s), want about %s", now, got, time.Now())
		}
		if d := later - now; d < 60_000 || d > 61_000 {
			t.Errorf("NowMillis + 60000 - NowMillis = %d", d)
		}
		if want := st.Dialect().Name() == "postgres"; st.Dialect().SharedByNodes() != want {
			t.Errorf("%s: SharedByNodes = %v", st.Dialect().Name(), !want)
		}
	})
}
