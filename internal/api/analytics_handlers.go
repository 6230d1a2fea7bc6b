package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/tracking"
)

// analyticsQuery answers GET /api/analytics: an object for groupBy=count, an
// array for every other groupBy (see package analytics for the shapes).
// Dub's event=composite is accepted with groupBy=count, whose answer always
// carries every event's total. top_links rows also carry the link's fields
// (Dub's shape: link, id, domain, key, shortLink, url, title, …).
func (s *Server) analyticsQuery(w http.ResponseWriter, r *http.Request) error {
	if s.Analytics == nil {
		return notFound("analytics are not enabled on this server")
	}
	v, err := dubEvent(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := analytics.ParseParams(v)
	if err != nil {
		return err
	}
	res, err := s.Analytics.Query(r.Context(), projectOf(r), p)
	if err != nil {
		return err
	}
	if rows, ok := res.([]analytics.Row); ok && p.GroupBy == "top_links" {
		if err := s.withLinkFields(r, rows); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// dubEvent maps event=composite (Dub's "every event") to the count query,
// whose answer holds every total; composite with another groupBy is refused.
func dubEvent(q url.Values) (url.Values, error) {
	if q.Get("event") != "composite" {
		return q, nil
	}
	if g := q.Get("groupBy"); g != "" && g != analytics.GroupCount {
		return nil, unprocessable("event=composite is answered with groupBy=count only; ask for each event's %s separately", g)
	}
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("event", analytics.EventClicks)
	return v, nil
}

// withLinkFields adds the link's own fields to each top_links row.
func (s *Server) withLinkFields(r *http.Request, rows []analytics.Row) error {
	ids := make([]string, 0, len(rows))
	for _, row := range rows {
		if id, ok := row["linkId"].(string); ok {
			ids = append(ids, id)
		}
	}
	ls, err := s.Links.GetMany(r.Context(), projectOf(r), ids)
	if err != nil {
		return err
	}
	for _, row := range rows {
		id, _ := row["linkId"].(string)
		l, ok := ls[id]
		if !ok {
			continue // deleted since: the counts stay, the fields are unknown
		}
		row["link"], row["id"], row["domain"], row["key"] = l.ID, l.ID, l.Domain, l.Key
		row["shortLink"], row["url"], row["title"], row["comments"] = l.ShortLink, l.URL, l.Title, l.Comments
		row["folderId"], row["partnerId"], row["createdAt"] = l.FolderID, l.PartnerID, l.CreatedAt
	}
	return nil
}

// DubEvent is a row of GET /api/events in Dub's event format: event
// ("click", "scan" or "view"), timestamp, click (the whole interaction object of docs/webhooks.md,
// with the click id also as id), link (the link object, null for scans and
// views of QR codes and pages), Dub's flat click_id, link_id, domain and key,
// and the interaction's own fields at the top level as before (Dub's flat
// copies: url, continent, country, city, device, browser, os, ip…), except
// qr, which is 0 or 1 there as in Dub (click.qr stays a boolean). kind,
// linkId, qrcodeId and pageId say which resource it was.
type DubEvent struct {
	Event     string      `json:"event"`
	Click     DubClick    `json:"click"`
	Link      *links.Link `json:"link"`
	ClickID   string      `json:"click_id"`
	LinkIDDub *string     `json:"link_id"`
	Domain    *string     `json:"domain"`
	Key       *string     `json:"key"`
	QR        int         `json:"qr"`
	Kind      string      `json:"kind"`
	LinkID    *string     `json:"linkId"`
	QRCodeID  *string     `json:"qrcodeId"`
	PageID    *string     `json:"pageId"`
	tracking.Interaction
}

// DubConversionEvent is a lead or sale event as Dub's GET /events shows it:
// the conversion with the link it came through (null for a QR code or page).
type DubConversionEvent struct {
	analytics.ConversionEvent
	Link *links.Link `json:"link"`
}

// linksOf loads, in one query, the links the n rows of an events page name
// (linkID(i) is row i's link id, or nil).
func (s *Server) linksOf(r *http.Request, n int, linkID func(i int) *string) (map[string]links.Link, error) {
	ids := make([]string, 0, n)
	for i := range n {
		if id := linkID(i); id != nil {
			ids = append(ids, *id)
		}
	}
	return s.Links.GetMany(r.Context(), projectOf(r), ids)
}

// linkOf is the link of id among ls, or nil.
func linkOf(ls map[string]links.Link, id *string) *links.Link {
	if id == nil {
		return nil
	}
	if l, ok := ls[*id]; ok {
		return &l
	}
	return nil
}

// DubClick is the interaction as Dub's click object: the interaction fields with the
// click id as id.
type DubClick struct {
	ID string `json:"id"`
	tracking.Interaction
}

func dubEventOf(e analytics.Event, l *links.Link) DubEvent {
	in := e.Interaction
	d := DubEvent{Event: e.Kind, Click: DubClick{ID: in.ClickID, Interaction: in}, Link: l,
		ClickID: in.ClickID, LinkIDDub: e.LinkID, Kind: e.Kind, LinkID: e.LinkID, QRCodeID: e.QRCodeID, PageID: e.PageID,
		Interaction: in}
	if in.QR {
		d.QR = 1
	}
	if l != nil {
		d.Domain, d.Key = &l.Domain, &l.Key
	}
	return d
}

// listEvents answers GET /api/events: raw interactions, newest first, paged.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	if s.Analytics == nil {
		return notFound("analytics are not enabled on this server")
	}
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	p, err := analytics.ParseEventParams(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := s.Analytics.Events(r.Context(), projectOf(r), p, page, pageSize)
	if err != nil {
		return err
	}
	var out any
	switch events := res.(type) {
	case []analytics.Event:
		ls, err := s.linksOf(r, len(events), func(i int) *string { return events[i].LinkID })
		if err != nil {
			return err
		}
		rows := make([]DubEvent, 0, len(events))
		for _, e := range events {
			rows = append(rows, dubEventOf(e, linkOf(ls, e.LinkID)))
		}
		out = rows
	case []analytics.ConversionEvent:
		ls, err := s.linksOf(r, len(events), func(i int) *string { return events[i].LinkID })
		if err != nil {
			return err
		}
		rows := make([]DubConversionEvent, 0, len(events))
		for _, e := range events {
			rows = append(rows, DubConversionEvent{ConversionEvent: e, Link: linkOf(ls, e.LinkID)})
		}
		out = rows
	default:
		return fmt.Errorf("api: events: unexpected %T", res)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
