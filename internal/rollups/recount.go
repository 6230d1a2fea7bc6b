package rollups

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// Recount computes a project's rollups from its raw rows (interactions,
// leads, sales), the way the writers count them. It is the reference the
// crash test compares the table against, and what Rebuild writes.
func Recount(ctx context.Context, q store.Querier, projectID string) (Batch, error) {
	b := Batch{}
	rows, err := q.QueryContext(ctx, `SELECT kind, COALESCE(link_id, qrcode_id, page_id), created_at, counted, bot,
continent, country, region, city, device, browser, os, referer, referer_url, url, qr FROM interactions WHERE project_id = $1`, projectID)
	if err != nil {
		return nil, fmt.Errorf("rollups: recount interactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind           string
			res            sql.NullString
			at             int64
			counted, isBot bool
			in             tracking.Interaction
		)
		if err := rows.Scan(&kind, &res, &at, &counted, &isBot, &in.Continent, &in.Country, &in.Region, &in.City,
			&in.Device, &in.Browser, &in.OS, &in.Referer, &in.RefererURL, &in.URL, &in.QR); err != nil {
			return nil, fmt.Errorf("rollups: recount interactions: %w", err)
		}
		var c Counts
		switch {
		case counted:
			c.N = 1
		case isBot:
			c.Bots = 1
		}
		b.Add(Item{ProjectID: projectID, Kind: kind, Resource: res.String, ResourceDim: resourceDimOf[kind],
			At: at, Interaction: &in, Counts: c})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rollups: recount interactions: %w", err)
	}
	rows.Close()
	for _, t := range []struct{ kind, table, amount string }{{KindLead, "leads", "0"}, {KindSale, "sales", "c.amount"}} {
		if err := recountConversions(ctx, q, b, projectID, t.kind, t.table, t.amount); err != nil {
			return nil, err
		}
	}
	return b, nil
}

var resourceDimOf = map[string]string{KindClick: LinkID, KindScan: QRCodeID, KindView: PageID}

func recountConversions(ctx context.Context, q store.Querier, b Batch, projectID, kind, table, amount string) error {
	rows, err := q.QueryContext(ctx, `SELECT c.link_id, c.qrcode_id, c.page_id, c.created_at, `+amount+`, i.click_id IS NOT NULL,
COALESCE(i.continent, ''), COALESCE(i.country, ''), COALESCE(i.region, ''), COALESCE(i.city, ''), COALESCE(i.device, ''),
COALESCE(i.browser, ''), COALESCE(i.os, ''), COALESCE(i.referer, ''), COALESCE(i.referer_url, ''), COALESCE(i.url, ''),
COALESCE(i.qr, FALSE)
FROM `+table+` c LEFT JOIN interactions i ON i.click_id = c.click_id WHERE c.project_id = $1`, projectID)
	if err != nil {
		return fmt.Errorf("rollups: recount %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			link, qr, page sql.NullString
			at, amt        int64
			found          bool
			in             tracking.Interaction
		)
		if err := rows.Scan(&link, &qr, &page, &at, &amt, &found, &in.Continent, &in.Country, &in.Region, &in.City,
			&in.Device, &in.Browser, &in.OS, &in.Referer, &in.RefererURL, &in.URL, &in.QR); err != nil {
			return fmt.Errorf("rollups: recount %s: %w", table, err)
		}
		it := Item{ProjectID: projectID, Kind: kind, At: at, Counts: Counts{N: 1, Amount: amt}}
		switch {
		case link.Valid:
			it.Resource, it.ResourceDim = link.String, LinkID
		case qr.Valid:
			it.Resource, it.ResourceDim = qr.String, QRCodeID
		case page.Valid:
			it.Resource, it.ResourceDim = page.String, PageID
		}
		if found {
			it.Interaction = &in
		}
		b.Add(it)
	}
	return rows.Err()
}

// Load reads a project's rollup rows (rows whose counters are all zero are
// left out, as Recount never makes them).
func Load(ctx context.Context, q store.Querier, projectID string) (Batch, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, resource_id, dim, grain, bucket, value, n, bots, amount
FROM analytics_rollups WHERE project_id = $1 AND (n <> 0 OR bots <> 0 OR amount <> 0)`, projectID)
	if err != nil {
		return nil, fmt.Errorf("rollups: load: %w", err)
	}
	defer rows.Close()
	b := Batch{}
	for rows.Next() {
		k := Key{ProjectID: projectID}
		var c Counts
		if err := rows.Scan(&k.Kind, &k.Resource, &k.Dim, &k.Grain, &k.Bucket, &k.Value, &c.N, &c.Bots, &c.Amount); err != nil {
			return nil, fmt.Errorf("rollups: load: %w", err)
		}
		b[k] = &c
	}
	return b, rows.Err()
}

// Rebuild replaces a project's rollups with a recount of its raw rows. It
// fills the rollups of data written before they existed; rows already pruned
// by retention are lost from a rebuilt rollup, so it is for backfills, not
// for routine use.
func Rebuild(ctx context.Context, tx *store.Tx, projectID string) error {
	b, err := Recount(ctx, tx, projectID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM analytics_rollups WHERE project_id = $1", projectID); err != nil {
		return fmt.Errorf("rollups: rebuild: %w", err)
	}
	return Write(ctx, tx, b)
}

// Diff lists the keys on which two batches differ (at most max), for test
// failure messages.
func Diff(a, b Batch, max int) []string {
	var out []string
	for k, ca := range a {
		if cb := b[k]; cb == nil || *cb != *ca {
			var got Counts
			if cb != nil {
				got = *cb
			}
			out = append(out, fmt.Sprintf("%+v: %+v vs %+v", k, *ca, got))
		}
		if len(out) >= max {
			return out
		}
	}
	for k, cb := range b {
		if a[k] == nil {
			out = append(out, fmt.Sprintf("%+v: missing vs %+v", k, *cb))
		}
		if len(out) >= max {
			return out
		}
	}
	return out
}

// Backfill rebuilds the rollups of every project that has raw interactions
// or conversions but no rollup rows at all: the data written before rollups
// existed — and adds the per-country rows (CountryCross) to every project
// with interactions that has none: the data written before those existed.
// serve runs it before it writes any interaction. Each project is
// rebuilt under a lock on its row, so two nodes starting at once do not
// both fill it.
func Backfill(ctx context.Context, st *store.Store) (projects int, err error) {
	rows, err := st.Read().QueryContext(ctx, `SELECT p.id FROM projects p
WHERE NOT EXISTS (SELECT 1 FROM analytics_rollups r WHERE r.project_id = p.id)
AND (EXISTS (SELECT 1 FROM interactions i WHERE i.project_id = p.id)
  OR EXISTS (SELECT 1 FROM leads l WHERE l.project_id = p.id)
  OR EXISTS (SELECT 1 FROM sales s WHERE s.project_id = p.id))`)
	if err != nil {
		return 0, fmt.Errorf("rollups: backfill: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("rollups: backfill: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("rollups: backfill: %w", err)
	}
	crossIDs, err := projectIDs(ctx, st, `SELECT p.id FROM projects p
WHERE EXISTS (SELECT 1 FROM interactions i WHERE i.project_id = p.id)
AND NOT EXISTS (SELECT 1 FROM analytics_rollups r WHERE r.project_id = p.id AND r.dim LIKE $1)`, CountryBy(Trigger, "%"))
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			// A no-op update takes the project's row lock on both databases.
			if _, err := tx.ExecContext(ctx, "UPDATE projects SET id = id WHERE id = $1", id); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM analytics_rollups WHERE project_id = $1", id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil // another node filled it meanwhile
			}
			return Rebuild(ctx, tx, id)
		})
		if err != nil {
			return projects, fmt.Errorf("rollups: backfill %s: %w", id, err)
		}
		projects++
	}
	for _, id := range crossIDs {
		if slices.Contains(ids, id) {
			continue // rebuilt whole above
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, "UPDATE projects SET id = id WHERE id = $1", id); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM analytics_rollups WHERE project_id = $1 AND dim LIKE $2", id, CountryBy(Trigger, "%")).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			return addCountryRows(ctx, tx, id)
		})
		if err != nil {
			return projects, fmt.Errorf("rollups: backfill %s per country: %w", id, err)
		}
		projects++
	}
	return projects, nil
}

// addCountryRows writes a project's per-country rows (CountryCross), counted
// from its raw rows, for data written before they existed. Where retention
// has pruned the raw rows they count nothing, which is what the raw scan
// that answered a country filter before them counted too.
func addCountryRows(ctx context.Context, tx *store.Tx, projectID string) error {
	b, err := Recount(ctx, tx, projectID)
	if err != nil {
		return err
	}
	for k := range b {
		if !strings.Contains(k.Dim, "@") {
			delete(b, k)
		}
	}
	return Write(ctx, tx, b)
}

func projectIDs(ctx context.Context, st *store.Store, q string, args ...any) ([]string, error) {
	rows, err := st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("rollups: backfill: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("rollups: backfill: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rollups: backfill: %w", err)
	}
	return ids, nil
}

// Backfiller runs Backfill as the start of a worker, so that an application
// fills missing rollups before its interactions pipeline writes anything.
type Backfiller struct {
	st     *store.Store
	logger *slog.Logger
}

// NewBackfiller returns a Backfiller on st.
func NewBackfiller(st *store.Store, logger *slog.Logger) *Backfiller {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Backfiller{st: st, logger: logger}
}

// Start runs Backfill to its end.
func (b *Backfiller) Start(ctx context.Context) error {
	n, err := Backfill(ctx, b.st)
	if n > 0 {
		b.logger.Info("rollups: analytics rollups filled from raw rows", "projects", n)
	}
	return err
}

// Stop does nothing: Start did all the work.
func (b *Backfiller) Stop(context.Context) error { return nil }
