package analytics

import (
	"context"
	"fmt"
)

// Leads and sales.
//
// They live in the tables `leads` and `sales` (migration 0009),
// each with project_id, created_at (Unix ms) and the nullable resource
// columns link_id, qrcode_id, page_id; sales also have amount (integer cents).
// This file is the only place analytics reads them:
//   - conversionTable names the table of an event;
//   - conversionTotal feeds groupBy=count, conversionGroups the top_* group-bys,
//     and Service.timeseries calls unitCounts / firstAt with conversionTable.
//
// To group leads or sales by more dimensions (country, device …)
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

// conversionTotal counts the leads or sales in the filter (and sums sale amounts).
func (s *Service) conversionTotal(ctx context.Context, f filter, event string) (n, amount int64, err error) {
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
