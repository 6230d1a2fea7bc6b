package webhooks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/netguard"
	"github.com/codeqr/codeqr/internal/store"
)

// SecretPrefix starts every signing secret (see "Signatures" in docs/webhooks.md).
const SecretPrefix = "whsec_"

// PreviousSecretTTL is how long a rotated-out secret still signs deliveries,
// so receivers can switch without losing any.
const PreviousSecretTTL = 24 * time.Hour

// Service manages webhook subscriptions: create, read, change, rotate their
// secrets, send test events and show and retry their delivery log.
type Service struct {
	st     *store.Store
	ev     *events.Writer
	cfg    config.Config
	now    func() time.Time
	notify func()
	// recoverNotify wakes the delivery engine's Recoverer after a recover job is created (recovery.go).
	recoverNotify func()
	// samples build the data of test events, by type (Options.Samples).
	samples events.Samples
}

// Options are the Service's collaborators, given at construction.
type Options struct {
	// Notify wakes the delivery engine after a retry put a delivery back in
	// the queue (events.Writer only wakes it for new events). nil: no-op.
	Notify func()
	// RecoveryNotify wakes the recovery worker after a job was created. nil: no-op.
	RecoveryNotify func()
	// Samples build the data of test events, by type; the wiring hands in the
	// domain packages' samples (internal/samples), so this package imports
	// no domain package.
	Samples events.Samples
	// Clock is the time source; nil means time.Now.
	Clock func() time.Time
}

// NewService returns a Service.
func NewService(st *store.Store, ev *events.Writer, cfg config.Config, o Options) *Service {
	noop := func() {}
	if o.Notify == nil {
		o.Notify = noop
	}
	if o.RecoveryNotify == nil {
		o.RecoveryNotify = noop
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Service{st: st, ev: ev, cfg: cfg, now: o.Clock, notify: o.Notify, recoverNotify: o.RecoveryNotify, samples: o.Samples}
}

// NewSecret returns "whsec_" + standard padded base64 of 32 random bytes.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("webhooks: crypto/rand failed: " + err.Error())
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// spec is the editable state of a webhook, validated as a whole.
type spec struct {
	Name        string
	URL         string
	Triggers    []events.Type
	LinkIDs     []string
	QRCodeIDs   []string
	PageIDs     []string
	IncludeBots bool
	RateLimit   *float64
	Listen      bool // a `codeqr listen` webhook, URL fixed to delivery.ListenURL
}

func (r CreateRequest) spec() spec {
	return spec(r)
}

// resourceKinds ties each scoped trigger to its selection and table.
type resourceKind struct {
	kind    string // webhook_resources.kind
	field   string // JSON field name
	trigger events.Type
	table   string
	noun    string
	ids     func(*spec) []string
}

func resourceKinds() []resourceKind {
	return []resourceKind{
		{"link", "linkIds", events.LinkClicked, "links", "link", func(s *spec) []string { return s.LinkIDs }},
		{"qrcode", "qrcodeIds", events.QRCodeScanned, "qrcodes", "QR code", func(s *spec) []string { return s.QRCodeIDs }},
		{"page", "pageIds", events.PageVisited, "pages", "page", func(s *spec) []string { return s.PageIDs }},
	}
}

// ValidateShape checks everything about a create request that needs no
// database or network: name, URL syntax, triggers and the scoping rules. It
// returns only errs.Invalid errors. It is exported for fuzzing.
func ValidateShape(r CreateRequest) error {
	sp := r.spec()
	return sp.validateShape()
}

func (sp *spec) validateShape() error {
	sp.Name = strings.TrimSpace(sp.Name)
	n := utf8.RuneCountInString(sp.Name)
	if n == 0 || n > MaxNameLen || !utf8.ValidString(sp.Name) {
		return errs.Invalid("name must be 1 to %d characters", MaxNameLen)
	}
	sp.URL = strings.TrimSpace(sp.URL)
	if sp.URL == "" {
		return errs.Invalid("url is required")
	}
	if len(sp.URL) > MaxURLLen {
		return errs.Invalid("url must be at most %d characters", MaxURLLen)
	}
	if sp.RateLimit != nil && !(*sp.RateLimit > 0 && *sp.RateLimit <= MaxRateLimit) {
		return errs.Invalid("rateLimit must be a number of deliveries per second above 0 and at most %d, or null for unlimited", MaxRateLimit)
	}
	if len(sp.Triggers) == 0 {
		return errs.Invalid("triggers must name at least one event type")
	}
	seen := make(map[events.Type]bool, len(sp.Triggers))
	for _, t := range sp.Triggers {
		if !t.Valid() {
			return errs.Invalid("triggers: unknown event type %q (known: %s)", t, typeList())
		}
		if seen[t] {
			return errs.Invalid("triggers: %s is listed twice", t)
		}
		seen[t] = true
	}
	for _, k := range resourceKinds() {
		list := k.ids(sp)
		if len(list) > MaxResourcesPerKind {
			return errs.Invalid("%s may name at most %d %ss", k.field, MaxResourcesPerKind, k.noun)
		}
		have := make(map[string]bool, len(list))
		for _, id := range list {
			if strings.TrimSpace(id) == "" {
				return errs.Invalid("%s must not contain empty ids", k.field)
			}
			if have[id] {
				return errs.Invalid("%s lists %q twice", k.field, id)
			}
			have[id] = true
		}
		switch {
		case seen[k.trigger] && len(list) == 0:
			return errs.Invalid("the %s trigger needs at least one %s in %s: interaction events are sent only for the %ss a webhook selects", k.trigger, k.noun, k.field, k.noun)
		case !seen[k.trigger] && len(list) > 0:
			return errs.Invalid("%s selects %ss but triggers lacks %s, the only event they are used for", k.field, k.noun, k.trigger)
		}
	}
	return nil
}

func typeList() string {
	var b strings.Builder
	for i, t := range events.AllTypes() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(t))
	}
	return b.String()
}

// validate checks sp completely: shape, destination and that every selected
// resource exists in the project. Ids already selected by existing (the
// webhook being updated, or nil) are not looked up again: a link deleted after
// it was selected must not make every later edit of the webhook fail.
func (s *Service) validate(ctx context.Context, q store.Querier, projectID string, sp *spec, existing *Webhook) error {
	if sp.Listen {
		return s.validateListen(ctx, q, projectID, sp, existing)
	}
	if err := sp.validateShape(); err != nil {
		return err
	}
	if err := netguard.CheckURL(ctx, sp.URL, netguard.Options{
		AllowHTTP: s.cfg.WebhooksAllowHTTP, AllowPrivate: s.cfg.WebhooksAllowPrivate,
	}); err != nil {
		if errors.Is(err, netguard.ErrBlocked) {
			return errs.Invalid("url: %v", err)
		}
		return fmt.Errorf("webhooks: check url: %w", err)
	}
	return s.checkResources(ctx, q, projectID, sp, existing)
}

// validateListen is validate for a listen webhook: everything but the URL,
// which is fixed, is checked as for any webhook.
func (s *Service) validateListen(ctx context.Context, q store.Querier, projectID string, sp *spec, existing *Webhook) error {
	if sp.URL != "" && sp.URL != delivery.ListenURL {
		return errs.Invalid("url must be empty when listen is true: a listen webhook delivers to its stream, not to a URL")
	}
	sp.URL = delivery.ListenURL
	if err := sp.validateShape(); err != nil {
		return err
	}
	return s.checkResources(ctx, q, projectID, sp, existing)
}

// rateArg is a webhook's rate_limit as a SQL argument (NULL when unlimited).
func rateArg(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}

// missingIDs returns the ids of list that are not rows of table in the project.
// table is one of a fixed set, never user input.
func missingIDs(ctx context.Context, q store.Querier, table, projectID string, list []string) ([]string, error) {
	found := make(map[string]bool, len(list))
	for chunk := range slices.Chunk(list, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, projectID)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, "SELECT id FROM "+table+" WHERE project_id = $1 AND id IN ("+store.Placeholders(2, len(chunk))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("webhooks: look up %s: %w", table, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("webhooks: look up %s: %w", table, err)
			}
			found[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("webhooks: look up %s: %w", table, err)
		}
	}
	var missing []string
	for _, id := range list {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// Create makes a webhook with a new secret.
func (s *Service) Create(ctx context.Context, projectID string, req CreateRequest) (WithSecret, error) {
	sp := req.spec()
	if err := s.validate(ctx, s.st.Read(), projectID, &sp, nil); err != nil {
		return WithSecret{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	out := WithSecret{Webhook: Webhook{ID: ids.New("wh"), CreatedAt: now, UpdatedAt: now}, Secret: NewSecret()}
	sp.apply(&out.Webhook)
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhooks WHERE project_id = $1", projectID).Scan(&n); err != nil {
			return fmt.Errorf("webhooks: count: %w", err)
		}
		if n >= MaxWebhooksPerProject {
			return errs.Invalid("a project may have at most %d webhooks", MaxWebhooksPerProject)
		}
		// Re-check the selection inside the transaction: a resource may have
		// been deleted since validate read it.
		if err := s.checkResources(ctx, tx, projectID, &sp, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, project_id, name, url, secret, include_bots, rate_limit, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			out.ID, projectID, out.Name, out.URL, out.Secret, out.IncludeBots, rateArg(out.RateLimit), store.Millis(now)); err != nil {
			return fmt.Errorf("webhooks: insert: %w", err)
		}
		return writeSets(ctx, tx, out.ID, &sp)
	})
	if err != nil {
		return WithSecret{}, err
	}
	return out, nil
}

// checkResources reports, as a validation error, selected ids that are not
// links, QR codes or pages of the project, skipping those existing already has.
func (s *Service) checkResources(ctx context.Context, q store.Querier, projectID string, sp *spec, existing *Webhook) error {
	var old spec
	if existing != nil {
		old = spec{LinkIDs: existing.LinkIDs, QRCodeIDs: existing.QRCodeIDs, PageIDs: existing.PageIDs}
	}
	for _, k := range resourceKinds() {
		known := k.ids(&old)
		var list []string
		for _, id := range k.ids(sp) {
			if !slices.Contains(known, id) {
				list = append(list, id)
			}
		}
		if len(list) == 0 {
			continue
		}
		missing, err := missingIDs(ctx, q, k.table, projectID, list)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return errs.Invalid("%s: no %s with id %s in this project", k.field, k.noun, strings.Join(quoteAll(missing), ", "))
		}
	}
	return nil
}

// apply copies sp into w, with empty (never nil) lists.
func (sp *spec) apply(w *Webhook) {
	w.Name, w.URL, w.IncludeBots, w.RateLimit = sp.Name, sp.URL, sp.IncludeBots, sp.RateLimit
	w.Triggers = append([]events.Type{}, sp.Triggers...)
	w.LinkIDs = append([]string{}, sp.LinkIDs...)
	w.QRCodeIDs = append([]string{}, sp.QRCodeIDs...)
	w.PageIDs = append([]string{}, sp.PageIDs...)
}

// writeSets replaces the trigger and resource rows of a webhook.
func writeSets(ctx context.Context, tx *store.Tx, id string, sp *spec) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_triggers WHERE webhook_id = $1", id); err != nil {
		return fmt.Errorf("webhooks: clear triggers: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_resources WHERE webhook_id = $1", id); err != nil {
		return fmt.Errorf("webhooks: clear resources: %w", err)
	}
	for _, t := range sp.Triggers {
		if _, err := tx.ExecContext(ctx, "INSERT INTO webhook_triggers (webhook_id, event_type) VALUES ($1, $2)", id, string(t)); err != nil {
			return fmt.Errorf("webhooks: insert trigger: %w", err)
		}
	}
	for _, k := range resourceKinds() {
		for _, rid := range k.ids(sp) {
			if _, err := tx.ExecContext(ctx, "INSERT INTO webhook_resources (webhook_id, kind, resource_id) VALUES ($1, $2, $3)", id, k.kind, rid); err != nil {
				return fmt.Errorf("webhooks: insert resource: %w", err)
			}
		}
	}
	return nil
}

const webhookColumns = "id, name, url, include_bots, rate_limit, disabled_at, created_at, updated_at"

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var (
		w                  Webhook
		disabled           sql.NullInt64
		rateLimit          sql.NullFloat64
		created, updatedAt int64
	)
	if err := row.Scan(&w.ID, &w.Name, &w.URL, &w.IncludeBots, &rateLimit, &disabled, &created, &updatedAt); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Webhook{}, errs.NotFound("no webhook with this id")
		}
		return Webhook{}, fmt.Errorf("webhooks: scan: %w", err)
	}
	w.DisabledAt = store.NullMillis(disabled)
	if rateLimit.Valid {
		w.RateLimit = &rateLimit.Float64
	}
	w.CreatedAt = store.FromMillis(created)
	w.UpdatedAt = store.FromMillis(updatedAt)
	w.Triggers, w.LinkIDs, w.QRCodeIDs, w.PageIDs = []events.Type{}, []string{}, []string{}, []string{}
	return w, nil
}

func (s *Service) get(ctx context.Context, q store.Querier, projectID, id string) (Webhook, error) {
	w, err := scanWebhook(q.QueryRowContext(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE id = $1 AND project_id = $2", id, projectID))
	if err != nil {
		return Webhook{}, err
	}
	list := []Webhook{w}
	if err := loadSets(ctx, q, list); err != nil {
		return Webhook{}, err
	}
	return list[0], nil
}

// loadSets fills the triggers and resource ids of ws, in catalogue order for
// triggers and insertion-independent (sorted) order for ids.
func loadSets(ctx context.Context, q store.Querier, ws []Webhook) error {
	if len(ws) == 0 {
		return nil
	}
	index := make(map[string]int, len(ws))
	args := make([]any, len(ws))
	for i, w := range ws {
		index[w.ID] = i
		args[i] = w.ID
	}
	in := store.Placeholders(1, len(ws))
	rows, err := q.QueryContext(ctx, "SELECT webhook_id, event_type FROM webhook_triggers WHERE webhook_id IN ("+in+")", args...)
	if err != nil {
		return fmt.Errorf("webhooks: load triggers: %w", err)
	}
	for rows.Next() {
		var id, t string
		if err := rows.Scan(&id, &t); err != nil {
			rows.Close()
			return fmt.Errorf("webhooks: load triggers: %w", err)
		}
		ws[index[id]].Triggers = append(ws[index[id]].Triggers, events.Type(t))
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("webhooks: load triggers: %w", err)
	}
	rows, err = q.QueryContext(ctx, "SELECT webhook_id, kind, resource_id FROM webhook_resources WHERE webhook_id IN ("+in+") ORDER BY resource_id", args...)
	if err != nil {
		return fmt.Errorf("webhooks: load resources: %w", err)
	}
	for rows.Next() {
		var id, kind, rid string
		if err := rows.Scan(&id, &kind, &rid); err != nil {
			rows.Close()
			return fmt.Errorf("webhooks: load resources: %w", err)
		}
		w := &ws[index[id]]
		switch kind {
		case "link":
			w.LinkIDs = append(w.LinkIDs, rid)
		case "qrcode":
			w.QRCodeIDs = append(w.QRCodeIDs, rid)
		case "page":
			w.PageIDs = append(w.PageIDs, rid)
		}
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("webhooks: load resources: %w", err)
	}
	order := make(map[events.Type]int)
	for i, t := range events.AllTypes() {
		order[t] = i
	}
	for i := range ws {
		slices.SortFunc(ws[i].Triggers, func(a, b events.Type) int { return order[a] - order[b] })
	}
	return nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	return errors.Join(err, rows.Close())
}

// Get returns one webhook of the project.
func (s *Service) Get(ctx context.Context, projectID, id string) (Webhook, error) {
	return s.get(ctx, s.st.Read(), projectID, id)
}

// List returns the project's webhooks, newest first.
func (s *Service) List(ctx context.Context, projectID string, page, pageSize int) ([]Webhook, error) {
	if page < 1 {
		page = 1
	}
	if pageSize < 1 || pageSize > 100 {
		pageSize = 50
	}
	q := s.st.Read()
	rows, err := q.QueryContext(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
		projectID, pageSize, (page-1)*pageSize)
	if err != nil {
		return nil, fmt.Errorf("webhooks: list: %w", err)
	}
	out := []Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, w)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("webhooks: list: %w", err)
	}
	if err := loadSets(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// resolve applies an update to the current state.
func (r UpdateRequest) resolve(cur Webhook) (spec, error) {
	sp := spec{Name: cur.Name, URL: cur.URL, Triggers: cur.Triggers, LinkIDs: cur.LinkIDs,
		QRCodeIDs: cur.QRCodeIDs, PageIDs: cur.PageIDs, IncludeBots: cur.IncludeBots, RateLimit: cur.RateLimit}
	// A listen webhook stays one unless the update gives it a real url.
	sp.Listen = delivery.IsListenURL(cur.URL) && !r.URL.Set
	if r.Name.Set {
		if r.Name.Null {
			return spec{}, errs.Invalid("name cannot be null")
		}
		sp.Name = r.Name.Value
	}
	if r.URL.Set {
		if r.URL.Null {
			return spec{}, errs.Invalid("url cannot be null")
		}
		sp.URL = r.URL.Value
	}
	if r.Triggers.Set {
		if r.Triggers.Null {
			return spec{}, errs.Invalid("triggers cannot be null")
		}
		sp.Triggers = r.Triggers.Value
	}
	if r.IncludeBots.Set {
		if r.IncludeBots.Null {
			return spec{}, errs.Invalid("includeBots cannot be null")
		}
		sp.IncludeBots = r.IncludeBots.Value
	}
	if r.RateLimit.Set {
		sp.RateLimit = nil // null: unlimited
		if !r.RateLimit.Null {
			v := r.RateLimit.Value
			sp.RateLimit = &v
		}
	}
	// A null selection clears it, like [].
	if r.LinkIDs.Set {
		sp.LinkIDs = r.LinkIDs.Value
	}
	if r.QRCodeIDs.Set {
		sp.QRCodeIDs = r.QRCodeIDs.Value
	}
	if r.PageIDs.Set {
		sp.PageIDs = r.PageIDs.Value
	}
	return sp, nil
}

// sameState reports whether applying sp to w changes nothing.
func sameState(w Webhook, sp spec) bool {
	sortedTypes := func(l []events.Type) []events.Type { c := slices.Clone(l); slices.Sort(c); return c }
	sorted := func(l []string) []string { c := slices.Clone(l); slices.Sort(c); return c }
	sameRate := (w.RateLimit == nil) == (sp.RateLimit == nil) && (w.RateLimit == nil || *w.RateLimit == *sp.RateLimit)
	return w.Name == sp.Name && w.URL == sp.URL && w.IncludeBots == sp.IncludeBots && sameRate &&
		slices.Equal(sortedTypes(w.Triggers), sortedTypes(sp.Triggers)) &&
		slices.Equal(sorted(w.LinkIDs), sorted(sp.LinkIDs)) &&
		slices.Equal(sorted(w.QRCodeIDs), sorted(sp.QRCodeIDs)) &&
		slices.Equal(sorted(w.PageIDs), sorted(sp.PageIDs))
}

// Update changes a webhook. The resulting state is validated as a whole, as on
// create; an update that changes nothing writes nothing.
func (s *Service) Update(ctx context.Context, projectID, id string, req UpdateRequest) (Webhook, error) {
	cur, err := s.Get(ctx, projectID, id)
	if err != nil {
		return Webhook{}, err
	}
	sp, err := req.resolve(cur)
	if err != nil {
		return Webhook{}, err
	}
	if err := s.validate(ctx, s.st.Read(), projectID, &sp, &cur); err != nil {
		return Webhook{}, err
	}
	var out Webhook
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := s.get(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		if sameState(cur, sp) {
			out = cur
			return nil
		}
		if err := s.checkResources(ctx, tx, projectID, &sp, &cur); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		if _, err := tx.ExecContext(ctx, "UPDATE webhooks SET name = $1, url = $2, include_bots = $3, rate_limit = $4, updated_at = $5 WHERE id = $6 AND project_id = $7",
			sp.Name, sp.URL, sp.IncludeBots, rateArg(sp.RateLimit), store.Millis(now), id, projectID); err != nil {
			return fmt.Errorf("webhooks: update: %w", err)
		}
		if err := writeSets(ctx, tx, id, &sp); err != nil {
			return err
		}
		out, err = s.get(ctx, tx, projectID, id)
		return err
	})
	return out, err
}

// Delete removes a webhook with its deliveries and their log.
func (s *Service) Delete(ctx context.Context, projectID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM webhooks WHERE id = $1 AND project_id = $2", id, projectID)
		if err != nil {
			return fmt.Errorf("webhooks: delete: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("no webhook with this id")
		}
		// Deliveries cascade by foreign key; the attempt log has none.
		if _, err := tx.ExecContext(ctx, "DELETE FROM delivery_attempts WHERE webhook_id = $1", id); err != nil {
			return fmt.Errorf("webhooks: delete attempts: %w", err)
		}
		return nil
	})
}

// RotateSecret gives the webhook a new secret. The old one keeps signing, next
// to the new one, for PreviousSecretTTL.
func (s *Service) RotateSecret(ctx context.Context, projectID, id string) (WithSecret, error) {
	var out WithSecret
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT secret FROM webhooks WHERE id = $1 AND project_id = $2", id, projectID).Scan(&old); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errs.NotFound("no webhook with this id")
			}
			return fmt.Errorf("webhooks: rotate: %w", err)
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		secret := NewSecret()
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET secret = $1, previous_secret = $2, previous_secret_until = $3, updated_at = $4
			WHERE id = $5 AND project_id = $6`,
			secret, old, store.Millis(now.Add(PreviousSecretTTL)), store.Millis(now), id, projectID); err != nil {
			return fmt.Errorf("webhooks: rotate: %w", err)
		}
		w, err := s.get(ctx, tx, projectID, id)
		out = WithSecret{Webhook: w, Secret: secret}
		return err
	})
	return out, err
}

// Secret returns the webhook with its current secret.
func (s *Service) Secret(ctx context.Context, projectID, id string) (WithSecret, error) {
	w, err := s.Get(ctx, projectID, id)
	if err != nil {
		return WithSecret{}, err
	}
	var secret string
	if err := s.st.Read().QueryRowContext(ctx, "SELECT secret FROM webhooks WHERE id = $1 AND project_id = $2", id, projectID).Scan(&secret); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return WithSecret{}, errs.NotFound("no webhook with this id")
		}
		return WithSecret{}, fmt.Errorf("webhooks: secret: %w", err)
	}
	return WithSecret{Webhook: w, Secret: secret}, nil
}

// Enable turns delivery back on and restarts the failure clock.
func (s *Service) Enable(ctx context.Context, projectID, id string) (Webhook, error) {
	return s.setState(ctx, projectID, id,
		"UPDATE webhooks SET disabled_at = NULL, failing_since = NULL, updated_at = $1 WHERE id = $2 AND project_id = $3 AND (disabled_at IS NOT NULL OR failing_since IS NOT NULL)")
}

// Disable stops delivery to the webhook; its events are kept as skipped
// deliveries that recovery can send later.
func (s *Service) Disable(ctx context.Context, projectID, id string) (Webhook, error) {
	return s.setState(ctx, projectID, id,
		"UPDATE webhooks SET disabled_at = $1, updated_at = $1 WHERE id = $2 AND project_id = $3 AND disabled_at IS NULL")
}

func (s *Service) setState(ctx context.Context, projectID, id, query string) (Webhook, error) {
	var out Webhook
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, query, store.Millis(s.now()), id, projectID); err != nil {
			return fmt.Errorf("webhooks: set state: %w", err)
		}
		var err error
		out, err = s.get(ctx, tx, projectID, id)
		return err
	})
	return out, err
}

// Test writes one test event of type t with a sample payload, delivered to
// this webhook only whatever its triggers, and returns the event id.
func (s *Service) Test(ctx context.Context, projectID, id string, t events.Type) (string, error) {
	if t == "" {
		t = events.LinkCreated
	}
	if !t.Valid() {
		return "", errs.Invalid("event: unknown event type %q (known: %s)", t, typeList())
	}
	sample := s.samples[t]
	if sample == nil {
		return "", fmt.Errorf("webhooks: test event: no sample data for %s was wired in", t)
	}
	var eventID string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		w, err := s.get(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		eventID, err = s.ev.Emit(ctx, tx, events.Event{
			ProjectID: projectID, Type: t, CreatedAt: now,
			Data: sample(events.SampleInput{ProjectID: projectID, BaseURL: s.cfg.BaseURL, Now: now,
				LinkIDs: w.LinkIDs, QRCodeIDs: w.QRCodeIDs, PageIDs: w.PageIDs}), TestWebhookID: id,
		})
		return err
	})
	return eventID, err
}

// RetryAttempt puts the delivery of a logged attempt back in the queue, due
// now: the engine sends it again with the same body and webhook-id. It returns
// the delivery id.
func (s *Service) RetryAttempt(ctx context.Context, projectID, webhookID, attemptID string) (int64, error) {
	aid, err := strconv.ParseInt(attemptID, 10, 64)
	if err != nil || aid <= 0 {
		return 0, errs.NotFound("no delivery attempt with this id")
	}
	var deliveryID int64
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT d.id FROM delivery_attempts a
			JOIN deliveries d ON d.id = a.delivery_id
			JOIN webhooks w ON w.id = d.webhook_id
			WHERE a.id = $1 AND a.webhook_id = $2 AND w.project_id = $3`, aid, webhookID, projectID).Scan(&deliveryID)
		if errors.Is(err, store.ErrNotFound) {
			return errs.NotFound("no delivery attempt with this id")
		}
		if err != nil {
			return fmt.Errorf("webhooks: find attempt: %w", err)
		}
		now := store.Millis(s.now())
		if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = 0, updated_at = $1 WHERE id = $2",
			now, deliveryID); err != nil {
			return fmt.Errorf("webhooks: requeue delivery: %w", err)
		}
		tx.AfterCommit(s.notify)
		return nil
	})
	return deliveryID, err
}
