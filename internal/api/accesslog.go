package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// accessLog writes one line per request: method, path (never the query, which
// can carry credentials such as a logo URL's userinfo; secret-looking path
// segments replaced), status and duration.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			logger.LogAttrs(r.Context(), slog.LevelInfo, "http",
				slog.String("method", r.Method),
				slog.String("path", RedactPath(r.URL.Path)),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(rec, r)
	})
}

// maxLoggedPath bounds the path written to the log.
const maxLoggedPath = 256

// secretPrefixes start tokens that must never reach a log: API keys and
// webhook signing secrets.
var secretPrefixes = []string{"codeqr_", "whsec_"}

// RedactPath is the path as the access log writes it: each segment that holds
// a secret token becomes "REDACTED", and the whole is cut to maxLoggedPath
// bytes.
func RedactPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		ls := strings.ToLower(s)
		for _, pre := range secretPrefixes {
			if strings.Contains(ls, pre) {
				segs[i] = "REDACTED"
				break
			}
		}
	}
	out := strings.Join(segs, "/")
	if len(out) > maxLoggedPath {
		out = out[:maxLoggedPath] + "…"
	}
	return out
}

// statusRecorder remembers the status and size of an answer. Unwrap lets
// http.ResponseController reach the real writer (Flush for listen streams).
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
