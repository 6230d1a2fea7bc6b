package delivery

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestPruner(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		project := newProject(t, st)
		h := newHook(t, st, project, "http://127.0.0.1:1/")
		now := time.Now()
		old := store.Millis(now.Add(-40 * 24 * time.Hour))
		recent := store.Millis(now.Add(-time.Hour))
		event := func(at int64) string {
			id := ids.New("evt")
			mustWrite(t, st, "INSERT INTO events (id, project_id, type, test, payload, created_at) VALUES ($1, $2, 'link.created', FALSE, '{}', $3)", id, project, at)
			return id
		}
		var did int64
		delivery := func(ev, status string, at int64) int64 {
			did++
			mustWrite(t, st, `INSERT INTO deliveries (id, event_id, webhook_id, project_id, status, attempts, next_attempt_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $6)`, did, ev, h.id, project, status, at)
			mustWrite(t, st, `INSERT INTO delivery_attempts (delivery_id, event_id, webhook_id, attempt, status, duration_ms, created_at)
VALUES ($1, $2, $3, 1, 'failed', 1, $4)`, did, ev, h.id, at)
			return did
		}
		oldDone := event(old)
		delivery(oldDone, "success", old)
		oldFailed := event(old)
		delivery(oldFailed, "failed", old)
		oldPending := event(old)
		delivery(oldPending, "pending", old)
		oldBare := event(old) // no webhook wanted it
		fresh := event(recent)
		delivery(fresh, "success", recent)

		p := NewPruner(st, 30*24*time.Hour, nil)
		stop(t, p) // before Start: harmless
		n, err := p.PruneOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// 3 old attempts, 2 finished old deliveries, 3 old events.
		if n != 8 {
			t.Errorf("pruned %d rows, want 8", n)
		}
		for _, ev := range []string{oldDone, oldFailed, oldBare} {
			if count(t, st, "SELECT COUNT(*) FROM events WHERE id = $1", ev) != 0 {
				t.Errorf("old event %s kept", ev)
			}
		}
		for _, ev := range []string{oldPending, fresh} {
			if count(t, st, "SELECT COUNT(*) FROM events WHERE id = $1", ev) != 1 {
				t.Errorf("event %s pruned", ev)
			}
		}
		if got := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"); got != 1 {
			t.Errorf("%d pending deliveries left, want 1", got)
		}
		if got := count(t, st, "SELECT COUNT(*) FROM delivery_attempts"); got != 1 {
			t.Errorf("%d attempts left, want the recent one", got)
		}

		// The background loop prunes at start; Stop twice is fine.
		delivery(event(old), "success", old)
		bg := NewPruner(st, 30*24*time.Hour, nil)
		if err := bg.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := bg.Start(context.Background()); err == nil {
			t.Error("second Start succeeded")
		}
		waitFor(t, 10*time.Second, "background prune", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM delivery_attempts") == 1
		})
		stop(t, bg)
		stop(t, bg)
	})
}

// smtpServer is a minimal SMTP server on loopback recording each message.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMessage
}

type smtpMessage struct{ from, to, data string }

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 test ESMTP")
	var m smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 test")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.from = strings.TrimSpace(line[len("MAIL FROM:"):])
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = strings.TrimSpace(line[len("RCPT TO:"):])
			say("250 OK")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 OK")
		}
	}
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

// TestDisableNotifiesOwner: a 410 disables the webhook; the owner gets an
// e-mail through the configured SMTP server.
func TestDisableNotifiesOwner(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		mail := newSMTPServer(t)
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusGone) })
		project := newProject(t, st)
		mustWrite(t, st, "UPDATE projects SET owner_email = $1 WHERE id = $2", "owner@example.test", project)
		h := newHook(t, st, project, rc.URL)
		cfg := testConfig()
		cfg.SMTPAddr, cfg.SMTPFrom = mail.ln.Addr().String(), "codeqr@example.test"
		n := NewNotifier(st, cfg, nil)
		d := newDeliverer(st, cfg, Options{OnDisable: n.Disabled}, options{})
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(t, d) })
		emit(t, st, d, project, 1)
		waitFor(t, 15*time.Second, "the e-mail", func() bool { return len(mail.messages()) == 1 })
		stop(t, n)
		m := mail.messages()[0]
		if m.to != "<owner@example.test>" || m.from != "<codeqr@example.test>" {
			t.Errorf("envelope from %s to %s", m.from, m.to)
		}
		for _, want := range []string{"Subject: [codeqr] Webhook \"hook\" was disabled", "410 Gone", h.id + "/recover"} {
			if !strings.Contains(m.data, want) {
				t.Errorf("message lacks %q:\n%s", want, m.data)
			}
		}
		if NewNotifier(st, testConfig(), nil) != nil {
			t.Error("a notifier without smtp-addr")
		}
	})
}

// TestRateLimit: 20 events to a webhook limited to 5/s take at least ~3 s,
// while an unlimited webhook of the same project gets its 20 at once.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		limited, free := newReceiver(t, nil), newReceiver(t, nil)
		project := newProject(t, st)
		h := newHook(t, st, project, limited.URL)
		mustWrite(t, st, "UPDATE webhooks SET rate_limit = 5 WHERE id = $1", h.id)
		newHook(t, st, project, free.URL)
		d := startDeliverer(t, st, testConfig(), options{})
		began := time.Now()
		emit(t, st, d, project, 20)
		waitFor(t, 20*time.Second, "the unlimited webhook's 20", func() bool { return free.count() == 20 })
		freeDone := time.Since(began)
		waitFor(t, 20*time.Second, "the limited webhook's 20", func() bool { return limited.count() == 20 })
		reqs := limited.requests()
		if span := reqs[len(reqs)-1].at.Sub(reqs[0].at); span < 2800*time.Millisecond {
			t.Errorf("20 deliveries at 5/s took %s, want ≥ ~3s", span)
		}
		if freeDone > 2500*time.Millisecond {
			t.Errorf("the unlimited webhook took %s: held back by the other's limit?", freeDone)
		}
	})
}
