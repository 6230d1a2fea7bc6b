package dashboard_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// BenchmarkLinksList measures the server time of the links screen (first
// page, newest first and by clicks) of a project with 100,000 links, through
// the whole HTTP stack on loopback, and reports its p95. Run it on a quiet
// machine: go test ./internal/dashboard -run '^$' -bench LinksList.
func BenchmarkLinksList(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			st := storetest.New(b, dialect)
			e := newEnv(b, st)
			seedLinks(b, st, e.P1.ID, 100_000)
			br := e.browser()
			br.get("/app/login")
			p := br.post("/app/login", map[string][]string{"email": {"one@test.example"}, "password": {password}})
			if p.Status != http.StatusSeeOther {
				b.Fatalf("login: %d", p.Status)
			}
			for _, sort := range []string{"createdAt", "clicks"} {
				b.Run(sort, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						start := time.Now()
						p := br.get("/app/links?sort=" + sort)
						took = append(took, time.Since(start))
						if p.Status != http.StatusOK {
							b.Fatalf("links: %d", p.Status)
						}
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
				})
			}
		})
	}
}

// seedLinks writes n links of a project in one statement.
func seedLinks(b *testing.B, st *store.Store, projectID string, n int) {
	b.Helper()
	ctx := context.Background()
	base := time.Now().Add(-time.Duration(n) * time.Second).UnixMilli()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO links (id, project_id, domain, key, url, clicks, created_at, updated_at)
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $1 - 1)
SELECT 'link_bench' || i, $2, 'go.test', 'k' || i, 'https://example.com/page/' || i, (i * 7919) % 1000, CAST($3 AS BIGINT) + i * 1000, CAST($3 AS BIGINT) + i * 1000 FROM seq`,
			n, projectID, base)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}
