package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
)

// AttemptPage is one page of the delivery log. NextCursor is the cursor of
// the following page, nil on the last one.
type AttemptPage struct {
	Data       []Attempt `json:"data"`
	NextCursor *string   `json:"nextCursor"`
}

// AttemptDetail is one attempt with what was sent and what came back
// (GET /api/webhooks/{id}/deliveries/{attemptId}).
type AttemptDetail struct {
	Attempt
	WebhookID string          `json:"webhookId"`
	Request   AttemptRequest  `json:"request"`
	Response  AttemptResponse `json:"response"`
}

// AttemptRequest is the request of an attempt. Body is the event payload,
// stored once per event, exactly the bytes that were signed; null once the
// event has been pruned. Headers include the signature headers of that attempt.
type AttemptRequest struct {
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
}

// AttemptResponse is the receiver's answer, null fields when there was none
// (timeout, refused, blocked). Body holds at most the first 16 KiB.
type AttemptResponse struct {
	Status  *int              `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
}

// Attempts lists the delivery log of a webhook, newest first (one page).
func (s *Service) Attempts(ctx context.Context, projectID, id string, f AttemptFilter) ([]Attempt, error) {
	p, err := s.AttemptLog(ctx, projectID, id, f)
	return p.Data, err
}

// AttemptLog lists the delivery log of a webhook, newest first, with the
// cursor of the next page. Paging by cursor is keyset paging on the attempt
// id, so it stays exact while new attempts are written; page/pageSize (offset)
// paging still works when no cursor is given.
func (s *Service) AttemptLog(ctx context.Context, projectID, id string, f AttemptFilter) (AttemptPage, error) {
	if _, err := s.Get(ctx, projectID, id); err != nil {
		return AttemptPage{}, err
	}
	if f.Status != "" && !slices.Contains(AttemptStatuses(), f.Status) {
		return AttemptPage{}, errs.BadInput("status must be one of %s", strings.Join(AttemptStatuses(), ", "))
	}
	if f.Event != "" && !f.Event.Valid() {
		return AttemptPage{}, errs.BadInput("event: unknown event type %q", f.Event)
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PageSize < 1 || f.PageSize > 100 {
		f.PageSize = 50
	}
	where := []string{"a.webhook_id = $1"}
	args := []any{id}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Status != "" {
		add("a.status = $%d", f.Status)
	}
	if f.Event != "" {
		add("e.type = $%d", string(f.Event))
	}
	if f.EventID != "" {
		add("a.event_id = $%d", f.EventID)
	}
	if f.Since != nil {
		add("a.created_at >= $%d", store.Millis(*f.Since))
	}
	if f.Until != nil {
		add("a.created_at < $%d", store.Millis(*f.Until))
	}
	offset := (f.Page - 1) * f.PageSize
	if f.Cursor != "" {
		after, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || after <= 0 {
			return AttemptPage{}, errs.BadInput("cursor: not a cursor this endpoint gave out")
		}
		add("a.id < $%d", after)
		offset = 0
	}
	// One row more than the page tells whether there is a next page.
	args = append(args, f.PageSize+1, offset)
	query := fmt.Sprintf(`SELECT a.id, a.event_id, COALESCE(e.type, ''), a.attempt, a.status, a.response_status, a.duration_ms, a.error,
		a.next_retry_at, a.created_at, COALESCE(e.test, FALSE)
		FROM delivery_attempts a LEFT JOIN events e ON e.id = a.event_id
		WHERE %s ORDER BY a.id DESC LIMIT $%d OFFSET $%d`, strings.Join(where, " AND "), len(args)-1, len(args))
	rows, err := s.st.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return AttemptPage{}, fmt.Errorf("webhooks: list attempts: %w", err)
	}
	out := AttemptPage{Data: []Attempt{}}
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			rows.Close()
			return AttemptPage{}, err
		}
		out.Data = append(out.Data, a)
	}
	if err := closeRows(rows); err != nil {
		return AttemptPage{}, fmt.Errorf("webhooks: list attempts: %w", err)
	}
	if len(out.Data) > f.PageSize {
		out.Data = out.Data[:f.PageSize]
		next := out.Data[len(out.Data)-1].ID
		out.NextCursor = &next
	}
	return out, nil
}

const attemptSelect = `a.id, a.event_id, COALESCE(e.type, ''), a.attempt, a.status, a.response_status, a.duration_ms, a.error,
		a.next_retry_at, a.created_at, COALESCE(e.test, FALSE)`

func scanAttempt(row interface{ Scan(...any) error }, extra ...any) (Attempt, error) {
	var (
		a         Attempt
		aid       int64
		typ       string
		respSt    sql.NullInt64
		errText   sql.NullString
		nextRetry sql.NullInt64
		created   int64
	)
	dest := append([]any{&aid, &a.EventID, &typ, &a.Attempt, &a.Status, &respSt, &a.DurationMs, &errText, &nextRetry, &created, &a.Test}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Attempt{}, errs.NotFound("no delivery attempt with this id")
		}
		return Attempt{}, fmt.Errorf("webhooks: scan attempt: %w", err)
	}
	a.ID = strconv.FormatInt(aid, 10)
	a.Event = events.Type(typ)
	if respSt.Valid {
		v := int(respSt.Int64)
		a.ResponseStatus = &v
	}
	a.Error = store.NullString(errText)
	a.NextRetryAt = store.NullMillis(nextRetry)
	a.CreatedAt = store.FromMillis(created)
	return a, nil
}

// AttemptByID returns one attempt of a webhook of the project with its
// request and response.
func (s *Service) AttemptByID(ctx context.Context, projectID, webhookID, attemptID string) (AttemptDetail, error) {
	aid, err := strconv.ParseInt(attemptID, 10, 64)
	if err != nil || aid <= 0 {
		return AttemptDetail{}, errs.NotFound("no delivery attempt with this id")
	}
	var reqHeaders, respHeaders, respBody, body sql.NullString
	row := s.st.Read().QueryRowContext(ctx, `SELECT `+attemptSelect+`, a.request_headers, a.response_headers, a.response_body, e.payload
		FROM delivery_attempts a JOIN webhooks w ON w.id = a.webhook_id LEFT JOIN events e ON e.id = a.event_id
		WHERE a.id = $1 AND a.webhook_id = $2 AND w.project_id = $3`, aid, webhookID, projectID)
	a, err := scanAttempt(row, &reqHeaders, &respHeaders, &respBody, &body)
	if err != nil {
		return AttemptDetail{}, err
	}
	out := AttemptDetail{Attempt: a, WebhookID: webhookID}
	out.Request.Headers = headerMap(reqHeaders)
	out.Request.Body = store.NullString(body)
	out.Response.Status = a.ResponseStatus
	out.Response.Headers = headerMap(respHeaders)
	out.Response.Body = store.NullString(respBody)
	return out, nil
}

// headerMap reads headers stored by headersJSON; nil when none were stored.
func headerMap(v sql.NullString) map[string]string {
	if !v.Valid || v.String == "" {
		return nil
	}
	var m map[string]string
	if json.Unmarshal([]byte(v.String), &m) != nil {
		return nil
	}
	return m
}

// parseTimeParam reads an optional RFC 3339 query parameter.
func parseTimeParam(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, errs.BadInput("%s: want an RFC 3339 time such as 2025-01-02T15:04:05Z", name)
	}
	t = t.UTC()
	return &t, nil
}

// ParseTimeRange reads the since and until query parameters (RFC 3339) of
// the delivery log; it is exported for the API layer.
func ParseTimeRange(since, until string) (*time.Time, *time.Time, error) {
	s, err := parseTimeParam("since", since)
	if err != nil {
		return nil, nil, err
	}
	u, err := parseTimeParam("until", until)
	if err != nil {
		return nil, nil, err
	}
	if s != nil && u != nil && !u.After(*s) {
		return nil, nil, errs.BadInput("until must be after since")
	}
	return s, u, nil
}
