package shortlinks_test

import (
	"context"
	"testing"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/shortlinks"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestValidateURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "javascript:alert(1)", "data:text/html,hi", "ftp://x.y", "/relative", "https://", "http://exa mple.com", "mailto:a@b.c"} {
		if err := shortlinks.ValidateURL("url", u); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("%q: want invalid, got %v", u, err)
		}
	}
	for _, u := range []string{"https://example.com", "http://example.com/a?b=c#d", "https://例え.jp/パス"} {
		if err := shortlinks.ValidateURL("url", u); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestValidateKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"", "api", "P", "-x", "a b", "a/b", "x..y", string(make([]byte, 191))} {
		if shortlinks.ValidateKey(k) == nil {
			t.Errorf("%q should be refused", k)
		}
	}
	for _, k := range []string{"spring", "a", "A-b_c.d", "2026"} {
		if err := shortlinks.ValidateKey(k); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
}

func TestClaimConflictsAndKeepsTxUsable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		storetest.MustExec(t, st.Read(), "SELECT 1")
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p','p','p',0,0)"); err != nil {
				return err
			}
			if err := shortlinks.Claim(ctx, tx, st.Dialect(), "d", "k", "p", shortlinks.KindLink, "l1"); err != nil {
				return err
			}
			err := shortlinks.Claim(ctx, tx, st.Dialect(), "d", "k", "p", shortlinks.KindQRCode, "q1")
			if errs.KindOf(err) != errs.KindConflict {
				t.Fatalf("want conflict, got %v", err)
			}
			key, err := shortlinks.ClaimRandom(ctx, tx, st.Dialect(), "d", "p", shortlinks.KindQRCode, "q1")
			if err != nil || len(key) != 7 {
				t.Fatalf("random claim after conflict: %q %v", key, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys"); n != 2 {
			t.Fatalf("want 2 keys, got %d", n)
		}
	})
}
