package analytics

import (
	"context"
	"fmt"
	"strings"
)

// Leads and sales.
//
// They live in the tables `leads` and `sales` (migration 0009, conversions
// issue), each with project_id, created_at (Unix ms) and the nullable resource
// columns link_id, qrcode_id, page_id; sales also have amount (integer cents).
// This file is the only place analytics reads them:
//   - conversionTable names the table of an event;
//   - conversionTotal feeds groupBy=count, conversionGroups the top_* group-bys,
//     and Service.timeseries calls unitCounts / firstAt with conversionTable.
//
// Until the tables exist every one of these answers zero rows (probed per
// request with a query that fails only when the table is missing, then
// remembered). To group leads or sales by more dimensions (country, device …)
// once their tables carry those columns, set conversions: true on the
// dimension in params.go; to read another column, change the queries here.
// No other file needs to change.

// conversionTable returns the table of a conversion event and whether it has
// an amount, or "" for interaction events.
func conversionTable(event string) (table string, amount bool) {
	switch event {
	case EventLeads:
		return "leads", false
	case EventSales:
		return "sales", true
	}
	return "", false
}

// conversionsExist reports whether the table of event exists yet.
func (s *Service) conversionsExist(ctx context.Context, event string) (bool, error) {
	flag := &s.haveLeads
	if event == EventSales {
		flag = &s.haveSales
	}
	if flag.Load() {
		return true, nil
	}
	table, _ := conversionTable(event)
	var n int64
	err := s.st.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE 1 = 0").Scan(&n)
	switch {
	case err == nil:
		flag.Store(true)
		return true, nil
	case isMissingTable(err):
		return false, nil
	}
	return false, fmt.Errorf("analytics: probe %s: %w", table, err)
}

// isMissingTable recognises "no such table" from SQLite and SQLSTATE 42P01
// (undefined_table) from PostgreSQL, without importing either driver.
func isMissingTable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such table") || strings.Contains(msg, "42P01")
}

// conversionTotal counts the leads or sales in the filter (and sums sale amounts).
func (s *Service) conversionTotal(ctx context.Context, f filter, event string) (n, amount int64, err error) {
	ok, err := s.conversionsExist(ctx, event)
	if err != nil || !ok {
		return 0, 0, err
	}
	table, hasAmount := conversionTable(event)
	sum := "0"
	if hasAmount {
		sum = "COALESCE(SUM(amount), 0)"
	}
	where, args := f.conversions()
	err = s.st.Read().QueryRowContext(ctx, "SELECT COUNT(*), "+sum+" FROM "+table+" WHERE "+where, args...).Scan(&n, &amount)
	if err != nil {
		return 0, 0, fmt.Errorf("analytics: count %s: %w", table, err)
	}
	return n, amount, nil
}

// conversionGroups answers top_links, top_qrcodes and top_pages for leads and sales.
func (s *Service) conversionGroups(ctx context.Context, f filter, d dimension) ([]Row, error) {
	out := []Row{}
	ok, err := s.conversionsExist(ctx, f.p.Event)
	if err != nil || !ok {
		return out, err
	}
	table, hasAmount := conversionTable(f.p.Event)
	sum := "0"
	if hasAmount {
		sum = "COALESCE(SUM(amount), 0)"
	}
	where, args := f.conversions()
	q := "SELECT " + d.column + ", COUNT(*) AS n, " + sum + " FROM " + table + " WHERE " + where + " AND " + d.column +
		" IS NOT NULL GROUP BY " + d.column + " ORDER BY n DESC, " + d.column + fmt.Sprintf(" LIMIT %d", maxGroups)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: group %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var n, amount int64
		if err := rows.Scan(&key, &n, &amount); err != nil {
			return nil, fmt.Errorf("analytics: group %s: %w", table, err)
		}
		r := Row{d.key: key, f.p.Event: n}
		if hasAmount {
			r["saleAmount"] = amount
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: group %s: %w", table, err)
	}
	sortRows(out, f.p.Event, d.key)
	return out, nil
}
