package interactions

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store"
)

// kindInfo is what differs between clicks, scans and views.
type kindInfo struct {
	column  string // interactions column naming the resource
	table   string
	counter string
	last    string // last-time column, "" for pages
	event   events.Type
	dataKey string
	// rollupDim is the analytics rollup dimension of the resource.
	rollupDim string
}

var kinds = map[Kind]kindInfo{
	KindClick: {"link_id", "links", "clicks", "last_clicked", events.LinkClicked, "link", rollups.LinkID},
	KindScan:  {"qrcode_id", "qrcodes", "scans", "last_scanned", events.QRCodeScanned, "qrcode", rollups.QRCodeID},
	KindView:  {"page_id", "pages", "views", "", events.PageVisited, "page", rollups.PageID},
}

func (p *Pipeline) loader(k Kind) Loader {
	switch k {
	case KindClick:
		return p.opt.Links
	case KindScan:
		return p.opt.QRCodes
	}
	return p.opt.Pages
}

const insertColumns = `click_id, project_id, kind, link_id, qrcode_id, page_id, url, ip, continent, country, region, city,
latitude, longitude, device, device_vendor, device_model, browser, browser_version, engine, engine_version, os, os_version,
cpu_architecture, ua, bot, qr, referer, referer_url, counted, created_at`

const perRow = 31

// rowsPerInsert keeps statements small: SQLite resolves each $N parameter name
// by a linear search, so a statement of k parameters costs O(k²) to prepare.
const rowsPerInsert = 32

func appendRowArgs(args []any, r Record) []any {
	in := r.Interaction
	var link, qr, page any
	switch r.Kind {
	case KindClick:
		link = r.ResourceID
	case KindScan:
		qr = r.ResourceID
	case KindView:
		page = r.ResourceID
	}
	var lat, lon any
	if in.Latitude != nil {
		lat = *in.Latitude
	}
	if in.Longitude != nil {
		lon = *in.Longitude
	}
	return append(args, in.ClickID, r.ProjectID, string(r.Kind), link, qr, page, in.URL, in.IP, in.Continent, in.Country,
		in.Region, in.City, lat, lon, in.Device, in.DeviceVendor, in.DeviceModel, in.Browser, in.BrowserVersion,
		in.Engine, in.EngineVersion, in.OS, in.OSVersion, in.CPUArchitecture, in.UA, in.Bot, in.QR, in.Referer,
		in.RefererURL, r.counted, store.Millis(in.Timestamp))
}

// group is the records of one resource in a batch.
type group struct {
	kind      Kind
	projectID string
	id        string
	recs      []Record
	counted   int64
	last      time.Time
}

// write stores one batch in one transaction.
func (p *Pipeline) write(ctx context.Context, batch []Record) error {
	groups := groupOf(batch)
	return p.st.InTx(ctx, func(tx *store.Tx) error {
		if err := insertRows(ctx, tx, p.st.Dialect(), batch); err != nil {
			return err
		}
		for _, g := range groups {
			if err := p.writeGroup(ctx, tx, g); err != nil {
				return err
			}
		}
		return rollups.WriteBulk(ctx, tx, p.st.Dialect(), rollupsOf(batch))
	})
}

// rollupsOf aggregates a batch's analytics rollups in memory, so each rollup
// row is written once per batch. Counted rows count in n, bots in bots; human
// repeats in neither.
func rollupsOf(batch []Record) rollups.Batch {
	items := make([]rollups.Item, 0, len(batch))
	for i := range batch {
		r := &batch[i]
		var c rollups.Counts
		switch {
		case r.counted:
			c.N = 1
		case r.Interaction.Bot:
			c.Bots = 1
		default:
			continue
		}
		items = append(items, rollups.Item{ProjectID: r.ProjectID, Kind: string(r.Kind), Resource: r.ResourceID,
			ResourceDim: kinds[r.Kind].rollupDim, At: store.Millis(r.Interaction.Timestamp),
			Interaction: &r.Interaction, Counts: c})
	}
	return rollups.Of(items)
}

func groupOf(batch []Record) []*group {
	byID := map[string]*group{}
	var out []*group
	for _, r := range batch {
		g := byID[string(r.Kind)+"/"+r.ResourceID]
		if g == nil {
			g = &group{kind: r.Kind, projectID: r.ProjectID, id: r.ResourceID}
			byID[string(r.Kind)+"/"+r.ResourceID] = g
			out = append(out, g)
		}
		g.recs = append(g.recs, r)
		if r.counted {
			g.counted++
			if t := r.Interaction.Timestamp; t.After(g.last) {
				g.last = t
			}
		}
	}
	// A fixed lock order, so that two nodes flushing at once cannot deadlock.
	slices.SortFunc(out, func(a, b *group) int { return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.id, b.id)) })
	for _, g := range out {
		slices.SortStableFunc(g.recs, func(a, b Record) int { return a.Interaction.Timestamp.Compare(b.Interaction.Timestamp) })
	}
	return out
}

// insertRows writes the raw rows: on PostgreSQL in one statement from
// arrays (a round trip per 32 rows was a third of the ingest time), on
// SQLite, in process, in multi-row statements of rowsPerInsert.
func insertRows(ctx context.Context, tx *store.Tx, d store.Dialect, batch []Record) error {
	if d.Name() == "postgres" && len(batch) > 0 {
		return insertUnnest(ctx, tx, batch)
	}
	args := make([]any, 0, rowsPerInsert*perRow)
	for start := 0; start < len(batch); start += rowsPerInsert {
		chunk := batch[start:min(start+rowsPerInsert, len(batch))]
		args = args[:0]
		for _, r := range chunk {
			args = appendRowArgs(args, r)
		}
		q := fullInsert
		if len(chunk) < rowsPerInsert {
			q = insertSQL(len(chunk))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("interactions: insert %d rows: %w", len(chunk), err)
		}
	}
	return nil
}

// fullInsert is the statement of a full chunk, built once.
var fullInsert = insertSQL(rowsPerInsert)

func insertSQL(rows int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO interactions (" + insertColumns + ") VALUES ")
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + store.Placeholders(i*perRow+1, perRow) + ")")
	}
	return sb.String()
}

// writeGroup bumps one resource's counters and emits its events.
func (p *Pipeline) writeGroup(ctx context.Context, tx *store.Tx, g *group) error {
	k := kinds[g.kind]
	if g.counted > 0 {
		set := k.counter + " = " + k.counter + " + $1"
		args := []any{g.counted, g.id, g.projectID}
		if k.last != "" {
			set += fmt.Sprintf(", %[1]s = CASE WHEN %[1]s IS NULL OR %[1]s < $4 THEN $4 ELSE %[1]s END", k.last)
			args = append(args, store.Millis(g.last))
		}
		if _, err := tx.ExecContext(ctx, "UPDATE "+k.table+" SET "+set+" WHERE id = $2 AND project_id = $3", args...); err != nil {
			return fmt.Errorf("interactions: bump %s: %w", k.counter, err)
		}
	}
	anyHook, botHook, err := subscribed(ctx, tx, k.event, g)
	if err != nil || !anyHook {
		return err
	}
	load := p.loader(g.kind)
	if load == nil {
		return nil
	}
	snap, err := load(ctx, tx, g.projectID, g.id)
	if errs.KindOf(err) == errs.KindNotFound {
		return nil // deleted since the request: the rows stay, nothing to deliver
	}
	if err != nil {
		return fmt.Errorf("interactions: load %s %s: %w", k.dataKey, g.id, err)
	}
	count, last, err := currentCounters(ctx, tx, k, g)
	if err != nil {
		return err
	}
	count -= g.counted // the counter as it was before this batch
	for _, r := range g.recs {
		if r.counted {
			count++
			t := r.Interaction.Timestamp.UTC().Truncate(time.Millisecond)
			last = &t
		}
		if !r.deliver || (r.Interaction.Bot && !botHook) {
			continue
		}
		var lastArg *time.Time
		if k.last != "" {
			lastArg = last
		}
		data := map[string]any{"interaction": r.Interaction, k.dataKey: snap(count, lastArg)}
		if _, err := p.ev.Emit(ctx, tx, events.Event{ProjectID: g.projectID, Type: k.event, CreatedAt: r.Interaction.Timestamp,
			Data: data, ResourceID: g.id, Bot: r.Interaction.Bot}); err != nil {
			return err
		}
	}
	return nil
}

// currentCounters reads the counter and last time inside the transaction.
func currentCounters(ctx context.Context, tx *store.Tx, k kindInfo, g *group) (int64, *time.Time, error) {
	var (
		count int64
		last  sql.NullInt64
	)
	cols := k.counter + ", NULL"
	if k.last != "" {
		cols = k.counter + ", " + k.last
	}
	err := tx.QueryRowContext(ctx, "SELECT "+cols+" FROM "+k.table+" WHERE id = $1", g.id).Scan(&count, &last)
	if err != nil {
		return 0, nil, fmt.Errorf("interactions: read %s: %w", k.counter, err)
	}
	return count, store.NullMillis(last), nil
}

// subscribed tells whether any webhook (enabled or not: disabled ones get
// 'skipped' deliveries for later recovery) selected this resource for this
// event, and whether one of them takes bots. Without one, no event is written:
// interaction events exist only to be delivered, and the interaction row is
// the analytics record.
func subscribed(ctx context.Context, tx *store.Tx, t events.Type, g *group) (anyHook, botHook bool, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT w.include_bots FROM webhooks w
JOIN webhook_triggers t ON t.webhook_id = w.id AND t.event_type = $1
JOIN webhook_resources r ON r.webhook_id = w.id AND r.resource_id = $2
WHERE w.project_id = $3`, string(t), g.id, g.projectID)
	if err != nil {
		return false, false, fmt.Errorf("interactions: find webhooks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var bots bool
		if err := rows.Scan(&bots); err != nil {
			return false, false, err
		}
		anyHook = true
		botHook = botHook || bots
	}
	return anyHook, botHook, rows.Err()
}

// unnestTypes are the PostgreSQL array types of insertColumns, in order.
var unnestTypes = [perRow]string{"text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
	"float8", "float8", "text", "text", "text", "text", "text", "text", "text", "text", "text",
	"text", "text", "bool", "bool", "text", "text", "bool", "int8"}

var unnestInsert = func() string {
	ph := make([]string, perRow)
	for i, t := range unnestTypes {
		ph[i] = fmt.Sprintf("$%d::%s[]", i+1, t)
	}
	return "INSERT INTO interactions (" + insertColumns + ") SELECT * FROM unnest(" + strings.Join(ph, ", ") + ")"
}()

// insertUnnest writes a batch's raw rows as one INSERT … SELECT FROM unnest
// of one array per column.
func insertUnnest(ctx context.Context, tx *store.Tx, batch []Record) error {
	n := len(batch)
	text := func() []string { return make([]string, n) }
	var (
		clickID, project, kind               = text(), text(), text()
		link, qr, page                       = make([]*string, n), make([]*string, n), make([]*string, n)
		url, ip, continent, country, region  = text(), text(), text(), text(), text()
		city                                 = text()
		lat, lon                             = make([]*float64, n), make([]*float64, n)
		device, vendor, model, browser, bver = text(), text(), text(), text(), text()
		engine, ever, os, osver, cpu, ua     = text(), text(), text(), text(), text(), text()
		bot, isQR, counted                   = make([]bool, n), make([]bool, n), make([]bool, n)
		referer, refererURL                  = text(), text()
		created                              = make([]int64, n)
	)
	for i := range batch {
		r := &batch[i]
		in := &r.Interaction
		id := r.ResourceID
		switch r.Kind {
		case KindClick:
			link[i] = &id
		case KindScan:
			qr[i] = &id
		case KindView:
			page[i] = &id
		}
		clickID[i], project[i], kind[i] = in.ClickID, r.ProjectID, string(r.Kind)
		url[i], ip[i], continent[i], country[i], region[i], city[i] = in.URL, in.IP, in.Continent, in.Country, in.Region, in.City
		lat[i], lon[i] = in.Latitude, in.Longitude
		device[i], vendor[i], model[i], browser[i], bver[i] = in.Device, in.DeviceVendor, in.DeviceModel, in.Browser, in.BrowserVersion
		engine[i], ever[i], os[i], osver[i], cpu[i], ua[i] = in.Engine, in.EngineVersion, in.OS, in.OSVersion, in.CPUArchitecture, in.UA
		bot[i], isQR[i], counted[i] = in.Bot, in.QR, r.counted
		referer[i], refererURL[i] = in.Referer, in.RefererURL
		created[i] = store.Millis(in.Timestamp)
	}
	if _, err := tx.ExecContext(ctx, unnestInsert, clickID, project, kind, link, qr, page, url, ip, continent, country, region,
		city, lat, lon, device, vendor, model, browser, bver, engine, ever, os, osver, cpu, ua, bot, isQR, referer, refererURL,
		counted, created); err != nil {
		return fmt.Errorf("interactions: insert %d rows: %w", n, err)
	}
	return nil
}
