package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// The analytics benchmark writes through the pipeline, fills the rollups and
// times every query shape (tiny N: this checks it works, not how fast).
func TestAnalyticsBench(t *testing.T) {
	t.Parallel()
	st := storetest.New(t, "sqlite")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Analytics(ctx, st, AnalyticsOptions{N: 3000, Span: 48 * time.Hour, Links: 20, Batch: 700, Runs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var raw, clicks int
	if err := st.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM interactions WHERE project_id = $1", res.ProjectID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := st.Read().QueryRowContext(ctx, "SELECT COALESCE(SUM(n + bots), 0) FROM analytics_rollups WHERE project_id = $1 AND resource_id = '' AND dim = '' AND grain = 86400000", res.ProjectID).Scan(&clicks); err != nil {
		t.Fatal(err)
	}
	if raw != 3000 || clicks != 3000 || res.RollupRows == 0 {
		t.Fatalf("%d raw rows, %d counted in the rollups, %d rollup rows; want 3000, 3000, >0", raw, clicks, res.RollupRows)
	}
	if len(res.Queries) != 23*6*3 {
		t.Fatalf("%d query shapes timed", len(res.Queries))
	}
	var out bytes.Buffer
	res.Print(&out)
	if !strings.Contains(out.String(), "groupBy=utm_sources interval=30d country=US") || !strings.Contains(out.String(), "per million") {
		t.Fatalf("summary:\n%s", out.String())
	}
}
