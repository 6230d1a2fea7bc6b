package conversions_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// benchTrack posts body(i) to path from parallel clients through the real
// handler on SQLite, and reports req/s and p99 latency. Every request must
// create (200, Dub's status): each writes its rows, counters and event in one transaction.
func benchTrack(b *testing.B, path string, setup func(e *env, clickID string), body func(i int64, clickID string) string) {
	st := storetest.New(b, "sqlite")
	e := newEnv(b, st)
	e.mustAPI(b, "POST", "/api/links", e.key1, `{"url":"https://shop.example.com/","key":"bench","trackConversion":true}`, 200, nil)
	resp := e.open(b, "/bench")
	loc := resp.Header.Get("Location")
	clickID := loc[strings.Index(loc, "cq_id=")+len("cq_id="):]
	setup(e, clickID)
	var (
		n     atomic.Int64
		mu    sync.Mutex
		lat   []time.Duration
		fails atomic.Int64
	)
	b.SetParallelism(benchParallelism())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := n.Add(1)
			start := time.Now()
			req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body(i, clickID)))
			req.Header.Set("Authorization", "Bearer "+e.key1)
			req.Header.Set("Content-Type", "application/json")
			r, err := e.client.Do(req)
			if err != nil || r.StatusCode != http.StatusOK {
				fails.Add(1)
			}
			if err == nil {
				r.Body.Close()
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if f := fails.Load(); f > 0 {
		b.Fatalf("%d requests did not answer 200", f)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkTrackLead(b *testing.B) {
	benchTrack(b, "/api/track/lead", func(*env, string) {}, func(i int64, clickID string) string {
		return fmt.Sprintf(`{"clickId":%q,"eventName":"Sign up","customerExternalId":"user_%d","customerEmail":"u%d@example.com","metadata":{"plan":"trial"}}`, clickID, i, i)
	})
}

func BenchmarkTrackSale(b *testing.B) {
	benchTrack(b, "/api/track/sale", func(e *env, clickID string) {
		e.mustAPI(b, "POST", "/api/track/lead", e.key1, fmt.Sprintf(`{"clickId":%q,"eventName":"Sign up","customerExternalId":"buyer"}`, clickID), 200, nil)
	}, func(i int64, _ string) string {
		return fmt.Sprintf(`{"customerExternalId":"buyer","amount":%d,"currency":"usd","paymentProcessor":"stripe","invoiceId":"inv_%d","metadata":{"order":%d}}`, 1000+i, i, i)
	})
}

// benchParallelism is how many concurrent clients per core the benchmarks run
// (CODEQR_BENCH_PARALLELISM, default 8): fewer clients show latency at a load
// below saturation, more show the ceiling.
func benchParallelism() int {
	if n, err := strconv.Atoi(os.Getenv("CODEQR_BENCH_PARALLELISM")); err == nil && n > 0 {
		return n
	}
	return 8
}
