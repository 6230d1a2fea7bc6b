package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// health is a webhook's state as the list shows it.
type health struct {
	State string // healthy, failing, disabled, new
	Since *time.Time
	Error string
}

type webhookRow struct {
	webhooks.Webhook
	Health health
}

func (d *Dashboard) health(r *http.Request, c *reqCtx, w webhooks.Webhook) (health, error) {
	if w.DisabledAt != nil {
		return health{State: "disabled", Since: w.DisabledAt}, nil
	}
	last, err := d.Webhooks.Attempts(r.Context(), c.ProjectID(), w.ID, webhooks.AttemptFilter{PageSize: 20})
	if err != nil {
		return health{}, err
	}
	var done []webhooks.Attempt
	for _, a := range last {
		if a.Status != "pending" {
			done = append(done, a)
		}
	}
	if len(done) == 0 {
		return health{State: "new"}, nil
	}
	if done[0].Status == "success" {
		return health{State: "healthy"}, nil
	}
	// Failing since the oldest failure of the latest run of failures.
	h := health{State: "failing", Error: str(done[0].Error)}
	if h.Error == "" && done[0].ResponseStatus != nil {
		h.Error = "HTTP " + strconv.Itoa(*done[0].ResponseStatus)
	}
	for _, a := range done {
		if a.Status == "success" {
			break
		}
		t := a.CreatedAt
		h.Since = &t
	}
	return h, nil
}

func (d *Dashboard) listWebhooks(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	ws, err := d.Webhooks.List(r.Context(), c.ProjectID(), 1, 100)
	if err != nil {
		return err
	}
	rows := make([]webhookRow, 0, len(ws))
	for _, wh := range ws {
		h, err := d.health(r, c, wh)
		if err != nil {
			return err
		}
		rows = append(rows, webhookRow{Webhook: wh, Health: h})
	}
	return d.ok(w, r, c, "webhooks", "Webhooks", "webhooks", rows)
}

// webhookForm is the create/edit form.
type webhookForm struct {
	Webhook  *webhooks.Webhook
	Name     string
	URL      string
	Triggers []string
	LinkIDs  []string
	QRIDs    []string
	PageIDs  []string
	Bots     bool
	Rate     string
	Types    []string
	Links    []links.Link
	QRCodes  []qrcodes.QRCode
	Pages    []pages.Page
	Errors   formErrors
}

func typeNames() []string {
	var out []string
	for _, t := range events.AllTypes() {
		out = append(out, string(t))
	}
	return out
}

// pickerData loads what the resource picker offers: the newest links, QR
// codes and pages (the picker's search narrows them in the browser).
func (d *Dashboard) pickerData(r *http.Request, c *reqCtx, f *webhookForm) error {
	ctx := r.Context()
	var err error
	f.Types = typeNames()
	if f.Links, err = d.Links.List(ctx, c.ProjectID(), links.ListOptions{PageSize: 100}); err != nil {
		return err
	}
	if f.QRCodes, err = d.QRCodes.List(ctx, c.ProjectID(), qrcodes.ListFilter{PageSize: 100}); err != nil {
		return err
	}
	f.Pages, err = d.Pages.List(ctx, c.ProjectID(), pages.ListOptions{PageSize: 100})
	return err
}

func (d *Dashboard) newWebhookForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := webhookForm{}
	if id := r.URL.Query().Get("linkId"); id != "" {
		f.LinkIDs = []string{id}
		f.Triggers = []string{string(events.LinkClicked)}
	}
	if err := d.pickerData(r, c, &f); err != nil {
		return err
	}
	return d.ok(w, r, c, "webhook_form", "Create webhook", "webhooks", f)
}

func readWebhookForm(v url.Values) webhookForm {
	return webhookForm{Name: v.Get("name"), URL: v.Get("url"), Triggers: v["triggers"], LinkIDs: v["linkIds"],
		QRIDs: v["qrcodeIds"], PageIDs: v["pageIds"], Bots: v.Get("includeBots") == "on", Rate: strings.TrimSpace(v.Get("rateLimit"))}
}

func (f webhookForm) request() (webhooks.CreateRequest, error) {
	req := webhooks.CreateRequest{Name: f.Name, URL: f.URL, LinkIDs: f.LinkIDs, QRCodeIDs: f.QRIDs, PageIDs: f.PageIDs, IncludeBots: f.Bots}
	for _, t := range f.Triggers {
		req.Triggers = append(req.Triggers, events.Type(t))
	}
	if f.Rate != "" {
		n, err := strconv.ParseFloat(f.Rate, 64)
		if err != nil {
			return req, errs.Invalid("rateLimit must be a number of deliveries per second, or empty for unlimited")
		}
		req.RateLimit = &n
	}
	return req, nil
}

var webhookFields = []string{"name", "url", "triggers", "linkIds", "qrcodeIds", "pageIds", "rateLimit"}

func (d *Dashboard) webhookFormError(w http.ResponseWriter, r *http.Request, c *reqCtx, f webhookForm, err error, title string) error {
	var ferr error
	if f.Errors, ferr = fieldErrors(err, webhookFields...); ferr != nil {
		return ferr
	}
	// "the link.clicked trigger needs …" names the picker, not the triggers.
	if msg := f.Errors.General; strings.Contains(msg, "linkIds") || strings.Contains(msg, "qrcodeIds") || strings.Contains(msg, "pageIds") {
		f.Errors.General, f.Errors.Fields = "", map[string]string{"resources": msg}
	}
	if err := d.pickerData(r, c, &f); err != nil {
		return err
	}
	d.render(w, r, c, statusOf(err), "webhook_form", title, "webhooks", f)
	return nil
}

// createdSecret is shown once after create and after rotation.
type secretData struct {
	Webhook webhooks.Webhook
	Secret  string
	Rotated bool
}

func (d *Dashboard) createWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := readWebhookForm(r.PostForm)
	req, err := f.request()
	var wh webhooks.WithSecret
	if err == nil {
		wh, err = d.Webhooks.Create(r.Context(), c.ProjectID(), req)
	}
	if err != nil {
		return d.webhookFormError(w, r, c, f, err, "Create webhook")
	}
	r.URL.RawQuery = "done=webhook-created"
	return d.ok(w, r, c, "webhook_secret", "Webhook created", "webhooks", secretData{Webhook: wh.Webhook, Secret: wh.Secret})
}

func (d *Dashboard) editWebhookForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := webhookForm{Webhook: &wh, Name: wh.Name, URL: wh.URL, LinkIDs: wh.LinkIDs, QRIDs: wh.QRCodeIDs, PageIDs: wh.PageIDs, Bots: wh.IncludeBots}
	for _, t := range wh.Triggers {
		f.Triggers = append(f.Triggers, string(t))
	}
	if wh.RateLimit != nil {
		f.Rate = strconv.FormatFloat(*wh.RateLimit, 'f', -1, 64)
	}
	if err := d.pickerData(r, c, &f); err != nil {
		return err
	}
	return d.ok(w, r, c, "webhook_form", "Edit webhook", "webhooks", f)
}

func (d *Dashboard) updateWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := readWebhookForm(r.PostForm)
	f.Webhook = &wh
	req, err := f.request()
	if err == nil {
		u := webhooks.UpdateRequest{Name: webhooks.Some(req.Name), URL: webhooks.Some(req.URL), Triggers: webhooks.Some(req.Triggers),
			LinkIDs: webhooks.Some(orEmpty(req.LinkIDs)), QRCodeIDs: webhooks.Some(orEmpty(req.QRCodeIDs)), PageIDs: webhooks.Some(orEmpty(req.PageIDs)),
			IncludeBots: webhooks.Some(req.IncludeBots)}
		if req.RateLimit != nil {
			u.RateLimit = webhooks.Some(*req.RateLimit)
		} else {
			u.RateLimit = webhooks.Optional[float64]{Set: true, Null: true}
		}
		_, err = d.Webhooks.Update(r.Context(), c.ProjectID(), wh.ID, u)
	}
	if err != nil {
		return d.webhookFormError(w, r, c, f, err, "Edit webhook")
	}
	return redirect(w, r, "/app/webhooks/"+wh.ID, "webhook-saved")
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// webhookView is the detail page: state, actions and the delivery log.
type webhookView struct {
	Webhook  webhooks.Webhook
	Health   health
	Attempts []webhooks.Attempt
	Status   string
	Event    string
	Next     string
	Types    []string
	Statuses []string
	Names    map[string]string
	Job      *webhooks.RecoveryJob
}

func (d *Dashboard) webhookPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := webhookView{Webhook: wh, Status: q.Get("status"), Event: q.Get("event"), Types: typeNames(), Statuses: webhooks.AttemptStatuses()}
	if v.Health, err = d.health(r, c, wh); err != nil {
		return err
	}
	page, err := d.Webhooks.AttemptLog(r.Context(), c.ProjectID(), wh.ID, webhooks.AttemptFilter{
		Status: v.Status, Event: events.Type(v.Event), Cursor: q.Get("cursor"), PageSize: 50})
	if err != nil {
		return err
	}
	v.Attempts = page.Data
	if page.NextCursor != nil {
		nq := url.Values{}
		for k, x := range q {
			if k != "cursor" && k != "done" {
				nq[k] = x
			}
		}
		nq.Set("cursor", *page.NextCursor)
		v.Next = "/app/webhooks/" + wh.ID + "?" + nq.Encode()
	}
	v.Names = map[string]string{}
	for _, id := range wh.LinkIDs {
		if l, err := d.Links.Get(r.Context(), c.ProjectID(), id); err == nil {
			v.Names[id] = l.ShortLink
		}
	}
	return d.ok(w, r, c, "webhook", wh.Name, "webhooks", v)
}

func (d *Dashboard) confirmDeleteWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "confirm", "Delete webhook", "webhooks", confirmData{What: "webhook", Name: wh.Name,
		Action: "/app/webhooks/" + wh.ID + "/delete", Back: "/app/webhooks/" + wh.ID})
}

func (d *Dashboard) deleteWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if err := d.Webhooks.Delete(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/webhooks", "webhook-deleted")
}

func (d *Dashboard) revealSecret(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.Secret(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "webhook_secret", "Signing secret", "webhooks", secretData{Webhook: wh.Webhook, Secret: wh.Secret})
}

func (d *Dashboard) rotateSecret(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.RotateSecret(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "webhook_secret", "New signing secret", "webhooks", secretData{Webhook: wh.Webhook, Secret: wh.Secret, Rotated: true})
}

func (d *Dashboard) testWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id := r.PathValue("id")
	if _, err := d.Webhooks.Test(r.Context(), c.ProjectID(), id, events.Type(r.PostForm.Get("event"))); err != nil {
		return err
	}
	return redirect(w, r, "/app/webhooks/"+id, "test-sent")
}

func (d *Dashboard) enableWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.Enable(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return redirect(w, r, "/app/webhooks/"+wh.ID, "webhook-enabled")
}

func (d *Dashboard) disableWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wh, err := d.Webhooks.Disable(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return redirect(w, r, "/app/webhooks/"+wh.ID, "webhook-disabled")
}

func (d *Dashboard) attemptPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	a, err := d.Webhooks.AttemptByID(r.Context(), c.ProjectID(), r.PathValue("id"), r.PathValue("attemptId"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "attempt", "Delivery attempt", "webhooks", a)
}

func (d *Dashboard) retryAttempt(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id := r.PathValue("id")
	if _, err := d.Webhooks.RetryAttempt(r.Context(), c.ProjectID(), id, r.PathValue("attemptId")); err != nil {
		return err
	}
	return redirect(w, r, "/app/webhooks/"+id, "redelivered")
}

func (d *Dashboard) recoverWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id := r.PathValue("id")
	var req webhooks.RecoverRequest
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"since", &req.Since}, {"until", &req.Until}} {
		s, err := parseLocal(strings.TrimSpace(r.PostForm.Get(p.name)))
		if err != nil {
			return errs.Invalid("%s must be a date and time such as 2030-01-31T12:00", p.name)
		}
		if s != "" {
			t, _ := time.Parse(time.RFC3339, s)
			*p.dst = &t
		}
	}
	job, err := d.Webhooks.Recover(r.Context(), c.ProjectID(), id, req)
	if err != nil {
		return err
	}
	return redirect(w, r, "/app/webhooks/"+id+"/recover/"+job.ID, "")
}

func (d *Dashboard) recoveryJobPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	job, err := d.Webhooks.RecoveryJob(r.Context(), c.ProjectID(), r.PathValue("id"), r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "recovery", "Recovery", "webhooks", job)
}
