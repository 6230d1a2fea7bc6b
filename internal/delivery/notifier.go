package delivery

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/store"
)

// smtpTimeout bounds one whole e-mail exchange, so an unreachable mail server
// never holds anything up for long.
const smtpTimeout = 30 * time.Second

// Notifier e-mails a project's owner when one of its webhooks is disabled
// automatically. Sends run in the background (the completer must never wait
// on a mail server); Stop waits for those in flight, for an orderly shutdown.
type Notifier struct {
	st     *store.Store
	cfg    config.Config
	logger *slog.Logger
	wg     sync.WaitGroup
	// ctx is the parent of every send; Stop cancels it when its own context
	// ends, which ends the sends still talking to the mail server.
	ctx    context.Context
	cancel context.CancelFunc
}

// NewNotifier returns a Notifier, or nil when no SMTP server is configured
// (cfg.SMTPAddr empty). A nil *Notifier is valid: Disabled, Start and Stop do
// nothing.
func NewNotifier(st *store.Store, cfg config.Config, logger *slog.Logger) *Notifier {
	if cfg.SMTPAddr == "" {
		return nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{st: st, cfg: cfg, logger: logger.With("component", "webhooks")}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n
}

// Disabled sends, in the background, the e-mail about webhookID. It has the
// signature Deliverer.OnDisable wants.
func (n *Notifier) Disabled(webhookID, reason string) {
	if n == nil {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, smtpTimeout)
		defer cancel()
		if err := n.send(ctx, webhookID, reason); err != nil {
			n.logger.Warn("webhooks: e-mail about disabled webhook", "webhook_id", webhookID, "err", err)
		}
	}()
}

// Start exists for the workers' common lifecycle: a Notifier has no loop of
// its own, its sends start with each Disabled.
func (n *Notifier) Start(context.Context) error { return nil }

// Stop waits for the e-mails in flight, or until ctx ends: then it cancels
// them, waits for them to give up, and returns ctx's error. It is safe to
// call more than once.
func (n *Notifier) Stop(ctx context.Context) error {
	if n == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		n.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		n.cancel()
		<-done
		return fmt.Errorf("delivery: notifier: e-mails in flight cancelled: %w", ctx.Err())
	}
}

func (n *Notifier) send(ctx context.Context, webhookID, reason string) error {
	var (
		name, url, project string
		owner              sql.NullString
	)
	err := n.st.Read().QueryRowContext(ctx, `SELECT w.name, w.url, p.name, p.owner_email
FROM webhooks w JOIN projects p ON p.id = w.project_id WHERE w.id = $1`, webhookID).Scan(&name, &url, &project, &owner)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile: nobody to tell about it
	}
	if err != nil {
		return fmt.Errorf("look up owner: %w", err)
	}
	if !owner.Valid || strings.TrimSpace(owner.String) == "" {
		n.logger.Info("webhooks: disabled webhook's project has no owner e-mail", "webhook_id", webhookID)
		return nil
	}
	subject := fmt.Sprintf("[codeqr] Webhook %q was disabled", oneLine(name))
	body := fmt.Sprintf("Your webhook %q (%s) in project %q was disabled: %s.\r\n\r\n"+
		"Events are kept as skipped deliveries. Fix the endpoint, enable the webhook again\r\n"+
		"(POST /api/webhooks/%s/enable) and send the missed events with\r\n"+
		"POST /api/webhooks/%s/recover.\r\n",
		oneLine(name), oneLine(url), oneLine(project), reason, webhookID, webhookID)
	return sendMail(ctx, n.cfg, strings.TrimSpace(owner.String), subject, body)
}

// oneLine keeps header and text injection out of user-chosen strings.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// sendMail delivers one plain-text message with net/smtp: STARTTLS when the
// server offers it, PLAIN authentication when a username is configured.
func sendMail(ctx context.Context, cfg config.Config, to, subject, body string) error {
	host, _, err := net.SplitHostPort(cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("smtp-addr: %w", err)
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// A cancelled ctx (Stop's deadline) ends the exchange at once.
	stopClose := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopClose()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if cfg.SMTPUsername != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.SMTPUsername, cfg.SMTPPassword, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(cfg.SMTPFrom); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	msg := "From: " + cfg.SMTPFrom + "\r\n" +
		"To: " + oneLine(to) + "\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
	if _, err := w.Write([]byte(msg)); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}
