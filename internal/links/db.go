package links

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
)

// columns is the stored form of a link, in the order scan, insert and save use.
const columns = `id, project_id, domain, key, url, external_id, archived, expires_at, expired_url, password_hash,
proxy, title, description, image, video, rewrite, do_index, ios, android, geo, public_stats, track_conversion,
comments, utm_source, utm_medium, utm_campaign, utm_term, utm_content, partner_id,
clicks, leads, sales, sale_amount, last_clicked, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanRecord(row scanner) (record, error) {
	var (
		r                                                                 record
		ext, expiredURL, pw, title, desc, image, video, ios, android, geo sql.NullString
		comments, src, med, camp, term, content, partner                  sql.NullString
		expires, lastClicked                                              sql.NullInt64
		created, updated                                                  int64
	)
	l := &r.Link
	err := row.Scan(&l.ID, &l.ProjectID, &l.Domain, &l.Key, &l.URL, &ext, &l.Archived, &expires, &expiredURL, &pw,
		&l.Proxy, &title, &desc, &image, &video, &l.Rewrite, &l.DoIndex, &ios, &android, &geo, &l.PublicStats, &l.TrackConversion,
		&comments, &src, &med, &camp, &term, &content, &partner,
		&l.Clicks, &l.Leads, &l.Sales, &l.SaleAmount, &lastClicked, &created, &updated)
	if errors.Is(err, store.ErrNotFound) {
		return record{}, errs.NotFound("link not found")
	}
	if err != nil {
		return record{}, fmt.Errorf("links: scan: %w", err)
	}
	l.ExternalID, l.ExpiredURL, r.passwordHash = store.NullString(ext), store.NullString(expiredURL), store.NullString(pw)
	l.Title, l.Description, l.Image, l.Video = store.NullString(title), store.NullString(desc), store.NullString(image), store.NullString(video)
	l.IOS, l.Android, l.Comments = store.NullString(ios), store.NullString(android), store.NullString(comments)
	l.UTMSource, l.UTMMedium, l.UTMCampaign = store.NullString(src), store.NullString(med), store.NullString(camp)
	l.UTMTerm, l.UTMContent, l.PartnerID = store.NullString(term), store.NullString(content), store.NullString(partner)
	l.ExpiresAt, l.LastClicked = store.NullMillis(expires), store.NullMillis(lastClicked)
	l.CreatedAt, l.UpdatedAt = store.FromMillis(created), store.FromMillis(updated)
	if geo.Valid && geo.String != "" {
		if err := json.Unmarshal([]byte(geo.String), &l.Geo); err != nil {
			return record{}, fmt.Errorf("links: stored geo of %s: %w", l.ID, err)
		}
		if len(l.Geo) == 0 {
			l.Geo = nil
		}
	}
	return r, nil
}

// load reads one link with its tags; where is a condition on links.
func (s *Service) load(ctx context.Context, q store.Querier, where string, args ...any) (record, error) {
	r, err := scanRecord(q.QueryRowContext(ctx, "SELECT "+columns+" FROM links WHERE "+where, args...))
	if err != nil {
		return record{}, err
	}
	t, err := tags.ForResources(ctx, q, "link_tags", []string{r.ID})
	if err != nil {
		return record{}, err
	}
	r.Tags = t[r.ID]
	s.derive(&r)
	return r, nil
}

// query reads many links with their tags.
func (s *Service) query(ctx context.Context, q store.Querier, query string, args ...any) ([]Link, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("links: list: %w", err)
	}
	defer rows.Close()
	var recs []record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("links: list: %w", err)
	}
	rows.Close()
	idList := make([]string, len(recs))
	for i, r := range recs {
		idList[i] = r.ID
	}
	t, err := tags.ForResources(ctx, q, "link_tags", idList)
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(recs))
	for _, r := range recs {
		r.Tags = t[r.ID]
		s.derive(&r)
		out = append(out, r.Link)
	}
	return out, nil
}

func geoArg(g map[string]string) (any, error) {
	if len(g) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("links: encode geo: %w", err)
	}
	return string(b), nil
}

// values returns the columns' arguments in the order of columns.
func values(r record) ([]any, error) {
	geo, err := geoArg(r.Geo)
	if err != nil {
		return nil, err
	}
	l := r.Link
	s := store.StringOrNil
	return []any{l.ID, l.ProjectID, l.Domain, l.Key, l.URL, s(l.ExternalID), l.Archived, store.MillisOrNil(l.ExpiresAt), s(l.ExpiredURL), s(r.passwordHash),
		l.Proxy, s(l.Title), s(l.Description), s(l.Image), s(l.Video), l.Rewrite, l.DoIndex, s(l.IOS), s(l.Android), geo, l.PublicStats, l.TrackConversion,
		s(l.Comments), s(l.UTMSource), s(l.UTMMedium), s(l.UTMCampaign), s(l.UTMTerm), s(l.UTMContent), s(l.PartnerID),
		l.Clicks, l.Leads, l.Sales, l.SaleAmount, store.MillisOrNil(l.LastClicked), store.Millis(l.CreatedAt), store.Millis(l.UpdatedAt)}, nil
}

func (s *Service) insert(ctx context.Context, tx *store.Tx, r record) error {
	args, err := values(r)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO links ("+columns+") VALUES ("+store.Placeholders(1, len(args))+")", args...)
	if errors.Is(err, store.ErrUniqueViolation) {
		return errs.Conflict("a link with this key or externalId already exists")
	}
	if err != nil {
		return fmt.Errorf("links: insert: %w", err)
	}
	return nil
}

// save writes every writable column of an existing link (counters and
// created_at are left to their owners).
func (s *Service) save(ctx context.Context, tx *store.Tx, r record) error {
	geo, err := geoArg(r.Geo)
	if err != nil {
		return err
	}
	l := r.Link
	str := store.StringOrNil
	_, err = tx.ExecContext(ctx, `UPDATE links SET domain = $1, key = $2, url = $3, external_id = $4, archived = $5, expires_at = $6,
expired_url = $7, password_hash = $8, proxy = $9, title = $10, description = $11, image = $12, video = $13, rewrite = $14,
do_index = $15, ios = $16, android = $17, geo = $18, public_stats = $19, track_conversion = $20, comments = $21,
utm_source = $22, utm_medium = $23, utm_campaign = $24, utm_term = $25, utm_content = $26, partner_id = $27, updated_at = $28
WHERE id = $29 AND project_id = $30`,
		l.Domain, l.Key, l.URL, str(l.ExternalID), l.Archived, store.MillisOrNil(l.ExpiresAt),
		str(l.ExpiredURL), str(r.passwordHash), l.Proxy, str(l.Title), str(l.Description), str(l.Image), str(l.Video), l.Rewrite,
		l.DoIndex, str(l.IOS), str(l.Android), geo, l.PublicStats, l.TrackConversion, str(l.Comments),
		str(l.UTMSource), str(l.UTMMedium), str(l.UTMCampaign), str(l.UTMTerm), str(l.UTMContent), str(l.PartnerID), store.Millis(l.UpdatedAt),
		l.ID, l.ProjectID)
	if errors.Is(err, store.ErrUniqueViolation) {
		return errs.Conflict("a link with this key or externalId already exists")
	}
	if err != nil {
		return fmt.Errorf("links: update: %w", err)
	}
	return nil
}

func (s *Service) writeTags(ctx context.Context, tx *store.Tx, linkID string, ts []tags.Tag) error {
	for _, t := range ts {
		if _, err := tx.ExecContext(ctx, "INSERT INTO link_tags (link_id, tag_id) VALUES ($1, $2)", linkID, t.ID); err != nil {
			return fmt.Errorf("links: tag %s: %w", linkID, err)
		}
	}
	return nil
}
