package links

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/store"
)

// filter is the WHERE of List and Count: the conditions joined with AND and
// their arguments ($1 is the project).
func (o ListOptions) filter(projectID string) ([]string, []any) {
	where := []string{"project_id = $1"}
	args := []any{projectID}
	add := func(cond string, vs ...any) {
		for _, v := range vs {
			args = append(args, v)
			cond = strings.Replace(cond, "$?", fmt.Sprintf("$%d", len(args)), 1)
		}
		where = append(where, cond)
	}
	if o.Search != "" {
		p := "%" + likeEscape(strings.ToLower(o.Search)) + "%"
		add(`(LOWER(url) LIKE $? ESCAPE '\' OR LOWER(key) LIKE $? ESCAPE '\' OR LOWER(COALESCE(title, '')) LIKE $? ESCAPE '\')`, p, p, p)
	}
	tagIDs := o.TagIDs
	if o.TagID != "" {
		tagIDs = append([]string{o.TagID}, tagIDs...)
	}
	if len(tagIDs) > 0 {
		vs := make([]any, len(tagIDs))
		for i, id := range tagIDs {
			vs[i] = id
		}
		add("EXISTS (SELECT 1 FROM link_tags lt WHERE lt.link_id = links.id AND lt.tag_id IN ("+marks(len(vs))+"))", vs...)
	}
	if len(o.TagNames) > 0 {
		vs := make([]any, len(o.TagNames))
		for i, n := range o.TagNames {
			vs[i] = strings.TrimSpace(n)
		}
		add("EXISTS (SELECT 1 FROM link_tags lt JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = links.id AND t.name IN ("+marks(len(vs))+"))", vs...)
	}
	if o.Domain != "" {
		add("domain = $?", strings.ToLower(o.Domain))
	}
	if o.Archived != nil {
		add("archived = $?", *o.Archived)
	}
	if o.FolderID != "" {
		add("folder_id = $?", o.FolderID)
	}
	if o.TenantID != "" || o.UserID != "" {
		where = append(where, "1 = 0")
	}
	return where, args
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("$?, ", n), ", ") }

// CountGroups are the values of GET /api/links/count?groupBy=.
var CountGroups = []string{"domain", "tagId", "folderId", "userId"}

// CountRow is one group of a grouped count: the group's value under its
// field name (domain, tagId, folderId or userId; null for links without
// one), and _count.
type CountRow map[string]any

// Count returns how many links match o.
func (s *Service) Count(ctx context.Context, projectID string, o ListOptions) (int64, error) {
	where, args := o.filter(projectID)
	var n int64
	if err := s.st.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM links WHERE "+strings.Join(where, " AND "), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("links: count: %w", err)
	}
	return n, nil
}

// CountBy counts the links that match o per value of groupBy, largest group
// first. Grouped by tagId, a link counts once per tag it carries and links
// without tags are left out (as Dub does).
func (s *Service) CountBy(ctx context.Context, projectID string, o ListOptions, groupBy string) ([]CountRow, error) {
	where, args := o.filter(projectID)
	cond := strings.Join(where, " AND ")
	var query string
	switch groupBy {
	case "domain":
		query = "SELECT domain, COUNT(*) FROM links WHERE " + cond + " GROUP BY domain"
	case "folderId":
		query = "SELECT folder_id, COUNT(*) FROM links WHERE " + cond + " GROUP BY folder_id"
	case "userId":
		query = "SELECT CAST(NULL AS TEXT), COUNT(*) FROM links WHERE " + cond + " HAVING COUNT(*) > 0"
	case "tagId":
		query = "SELECT lt.tag_id, COUNT(*) FROM links JOIN link_tags lt ON lt.link_id = links.id WHERE " +
			strings.ReplaceAll(cond, "project_id = $1", "links.project_id = $1") + " GROUP BY lt.tag_id"
	default:
		return nil, errs.BadInput("groupBy must be one of %s", strings.Join(CountGroups, ", "))
	}
	rows, err := s.st.Read().QueryContext(ctx, query+" ORDER BY 2 DESC, 1", args...)
	if err != nil {
		return nil, fmt.Errorf("links: count by %s: %w", groupBy, err)
	}
	defer rows.Close()
	out := []CountRow{}
	for rows.Next() {
		var (
			v sql.NullString
			n int64
		)
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("links: count by %s: %w", groupBy, err)
		}
		out = append(out, CountRow{groupBy: store.NullString(v), "_count": n})
	}
	return out, rows.Err()
}

// resolveID turns Dub's ext_<externalId> form of a link id into the link's
// id; any other value is returned as it is.
func (s *Service) resolveID(ctx context.Context, q store.Querier, projectID, id string) (string, error) {
	ext, ok := strings.CutPrefix(id, "ext_")
	if !ok {
		return id, nil
	}
	var got string
	err := q.QueryRowContext(ctx, "SELECT id FROM links WHERE project_id = $1 AND external_id = $2", projectID, ext).Scan(&got)
	if errors.Is(err, store.ErrNotFound) {
		return "", errs.NotFound("link with externalId %q not found", truncate(ext))
	}
	if err != nil {
		return "", fmt.Errorf("links: find by externalId: %w", err)
	}
	return got, nil
}

// GetMany returns the project's links with these ids, by id; unknown ids are
// left out.
func (s *Service) GetMany(ctx context.Context, projectID string, ids []string) (map[string]Link, error) {
	out := make(map[string]Link, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{projectID}
	for _, id := range ids {
		args = append(args, id)
	}
	ls, err := s.query(ctx, s.st.Read(), "SELECT "+selectColumns+" FROM links WHERE project_id = $1 AND id IN ("+
		store.Placeholders(2, len(ids))+")", args...)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		out[l.ID] = l
	}
	return out, nil
}
