package qrcodes

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/qrcodes/qrtest"
)

// pngHeader is a PNG that declares w×h pixels and holds none: what a
// decompression bomb looks like before its image data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		td := append([]byte(typ), data...)
		b.Write(td)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(td))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

func grayPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeLogoBoundsPixelsBeforeDecoding(t *testing.T) {
	t.Parallel()
	for _, dims := range [][2]uint32{{4096, 4096}, {1 << 20, 2}, {2, 1 << 20}, {1025, 1024}, {65535, 65535}} {
		var before, after runtime.MemStats
		data := pngHeader(dims[0], dims[1])
		runtime.ReadMemStats(&before)
		_, err := decodeLogo(data)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("%dx%d: %v", dims[0], dims[1], err)
		}
		// Decoding 4096×4096 would allocate 64 MiB; other parallel tests
		// allocate too, hence the generous 16 MiB.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Fatalf("%dx%d: refusing it allocated %d bytes", dims[0], dims[1], grew)
		}
	}
	// A real image just over the limit is refused; one at it is scaled down.
	if _, err := decodeLogo(grayPNG(t, 1100, 1000)); err == nil {
		t.Fatal("1100x1000 logo accepted")
	}
	img, err := decodeLogo(grayPNG(t, 1024, 512))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != MaxLogoEdge || b.Dy() != MaxLogoEdge/2 {
		t.Fatalf("cached logo is %v, want %dx%d", b, MaxLogoEdge, MaxLogoEdge/2)
	}
}

// One logo URL is fetched once however many renders ask for it at once, and
// again only after its TTL; a failure is remembered too.
func TestLogoCache(t *testing.T) {
	t.Parallel()
	logo := qrtest.LogoPNG(t, 64, 64)
	var hits atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/slow.png" {
			<-release
		}
		if r.URL.Path == "/missing.png" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(logo)
	}))
	t.Cleanup(srv.Close)
	s := NewService(nil, nil, nil, testConfig(), nil, nil)
	var mu sync.Mutex
	now := time.Now()
	s.logos.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			img, err := s.logos.get(ctx, srv.URL+"/slow.png")
			if err == nil && img == nil {
				err = errors.New("nil logo")
			}
			errs <- err
		})
	}
	// Let the requests pile up on the one in-flight fetch, then release it.
	for hits.Load() == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("20 concurrent renders fetched the logo %d times", n)
	}
	_, _ = s.logos.get(ctx, srv.URL+"/slow.png")
	if n := hits.Load(); n != 1 {
		t.Fatalf("a cached logo was fetched again (%d)", n)
	}
	mu.Lock()
	now = now.Add(LogoCacheTTL + time.Second)
	mu.Unlock()
	_, _ = s.logos.get(ctx, srv.URL+"/slow.png")
	if n := hits.Load(); n != 2 {
		t.Fatalf("an expired logo was not fetched again (%d)", n)
	}
	for range 5 {
		if _, err := s.logos.get(ctx, srv.URL+"/missing.png"); err == nil {
			t.Fatal("missing logo fetched")
		}
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("a failing logo was fetched %d times, want once", n-2)
	}
	// The cache holds at most LogoCacheEntries logos.
	for i := range LogoCacheEntries + 10 {
		_, _ = s.logos.get(ctx, fmt.Sprintf("%s/l%d.png", srv.URL, i))
	}
	if n := s.logos.cache.Len(); n > LogoCacheEntries {
		t.Fatalf("cache holds %d logos", n)
	}
}

// At most LogoFetchers logos are fetched at once; renders beyond that wait
// LogoQueueWait and are drawn without their logo instead of piling up.
func TestLogoFetchConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		_, _ = w.Write(qrtest.LogoPNG(t, 8, 8))
	}))
	t.Cleanup(srv.Close)
	s := NewService(nil, nil, nil, testConfig(), nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = LogoFetchers * 4
	var wg sync.WaitGroup
	done := make(chan time.Duration, n)
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			d := DefaultDesign()
			l := fmt.Sprintf("%s/%d.png", srv.URL, i)
			d.Logo = &l
			d, _ = d.Normalize()
			_, err := s.Render(ctx, "hello", d, FormatPNG)
			if err != nil {
				t.Error(err)
			}
			done <- time.Since(start)
		})
	}
	// n-LogoFetchers renders finish without their logo while the others are
	// still stuck on the (held) logo server.
	for range n - LogoFetchers {
		select {
		case <-done:
		case <-ctx.Done():
			t.Error("renders beyond the fetch bound waited for the logo server")
		}
	}
	if p := peak.Load(); p > LogoFetchers {
		t.Errorf("%d logo fetches at once, bound %d", p, LogoFetchers)
	}
	close(release)
	wg.Wait()
}

func TestRenderConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	s := NewService(nil, nil, nil, testConfig(), nil, nil)
	s.renderWait = 50 * time.Millisecond
	for range cap(s.renderSem) {
		s.renderSem <- struct{}{}
	}
	if _, err := s.Render(context.Background(), "hello", DefaultDesign(), FormatPNG); !errors.Is(err, ErrRendererBusy) {
		t.Fatalf("render with every slot taken: %v", err)
	}
	<-s.renderSem
	if _, err := s.Render(context.Background(), "hello", DefaultDesign(), FormatPNG); err != nil {
		t.Fatalf("render with a free slot: %v", err)
	}
}

// FuzzDecodeLogo: whatever the bytes, decoding never panics, never returns
// an image without an error, and never one larger than MaxLogoEdge square.
func FuzzDecodeLogo(f *testing.F) {
	f.Add(pngHeader(4096, 4096))
	f.Add(pngHeader(10, 10))
	f.Add(qrtest.LogoPNG(f, 16, 9))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decodeLogo(data)
		if err != nil {
			return
		}
		if img == nil {
			t.Fatal("nil image without an error")
		}
		if b := img.Bounds(); b.Dx() > MaxLogoEdge || b.Dy() > MaxLogoEdge || b.Dx() < 1 || b.Dy() < 1 {
			t.Fatalf("decoded logo is %v", b)
		}
	})
}
