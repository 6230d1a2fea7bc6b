package qrcodes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/codeqr/codeqr/internal/netguard"
)

// Bounds of the logo fetch. Anyone can make the server fetch a logo (the
// public renderer takes logo= without a key), so each of its costs is capped.
const (
	// MaxLogoBytes bounds a fetched logo's body.
	MaxLogoBytes = 1 << 20
	// MaxLogoPixels bounds a logo's decoded size, checked from its header
	// before it is decoded. A logo is drawn at most MaxLogoEdge pixels wide
	// (LogoShare of MaxSize), so 1024×1024 is over twice the detail ever
	// shown, while decoding it costs at most 8 MiB (16-bit RGBA); the 4096×4096
	// allowed before cost ~110 MB and seconds of CPU per request from a
	// 72 KB file.
	MaxLogoPixels = 1024 * 1024
	// MaxLogoEdge is the largest width or height a logo is ever drawn at;
	// cached logos are kept scaled down to it.
	MaxLogoEdge = (MaxSize*int(LogoShare*100) + 99) / 100
	// LogoTimeout bounds one fetch, from connecting to the last byte.
	LogoTimeout = 5 * time.Second
	// LogoFetchers is how many logos are fetched and decoded at once on a
	// node; a render that waits LogoQueueWait for a slot is drawn without
	// its logo (not cached, so a later render has it).
	LogoFetchers  = 4
	LogoQueueWait = 250 * time.Millisecond
	// LogoCacheEntries and LogoCacheTTL bound the cache that makes one logo
	// URL cost one fetch: at most LogoCacheEntries logos of at most
	// MaxLogoEdge² pixels (≤ 21 MiB in all), each kept LogoCacheTTL (a
	// changed logo shows within that long). A failed fetch is remembered for
	// LogoFailureTTL, so a broken or hostile URL is not fetched per request.
	LogoCacheEntries = 32
	LogoCacheTTL     = 10 * time.Minute
	LogoFailureTTL   = time.Minute
)

// errLogoBusy means every logo fetcher stayed busy for LogoQueueWait.
var errLogoBusy = errors.New("logo fetchers busy")

type logoEntry struct {
	img     image.Image
	err     error
	expires time.Time
}

// logoFetcher fetches logos through the destination guard, at most
// LogoFetchers at once, each URL once (concurrent requests for one URL share
// its fetch) and then from a bounded, expiring LRU cache.
type logoFetcher struct {
	client  *http.Client
	guard   netguard.Options
	now     func() time.Time
	sem     chan struct{}
	cache   *lru.Cache[string, logoEntry]
	flights singleflight.Group
	// fetches counts real fetches (for tests of the cache).
	fetches func()
}

func newLogoFetcher(guard netguard.Options) *logoFetcher {
	cache, err := lru.New[string, logoEntry](LogoCacheEntries)
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &logoFetcher{
		client:  netguard.Client(guard, LogoTimeout),
		guard:   guard,
		now:     time.Now,
		sem:     make(chan struct{}, LogoFetchers),
		cache:   cache,
		fetches: func() {},
	}
}

// get returns the logo at raw, scaled to at most MaxLogoEdge square.
func (f *logoFetcher) get(ctx context.Context, raw string) (image.Image, error) {
	if e, ok := f.cache.Get(raw); ok && f.now().Before(e.expires) {
		return e.img, e.err
	}
	ch := f.flights.DoChan(raw, func() (any, error) {
		select {
		case f.sem <- struct{}{}:
		case <-time.After(LogoQueueWait):
			return nil, errLogoBusy
		}
		defer func() { <-f.sem }()
		// The fetch is shared by every caller waiting for this URL: one of
		// them going away must not cancel it for the others.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), LogoTimeout)
		defer cancel()
		f.fetches()
		img, err := f.fetch(fctx, raw)
		ttl := LogoCacheTTL
		if err != nil {
			ttl = LogoFailureTTL
		}
		f.cache.Add(raw, logoEntry{img: img, err: err, expires: f.now().Add(ttl)})
		return img, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(image.Image), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *logoFetcher) fetch(ctx context.Context, raw string) (image.Image, error) {
	if err := netguard.CheckURL(ctx, raw, f.guard); err != nil {
		return nil, fmt.Errorf("logo: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("logo request: %w", err)
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/gif")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch logo: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch logo: status %d", resp.StatusCode)
	}
	if resp.ContentLength > MaxLogoBytes {
		return nil, fmt.Errorf("logo is larger than %d bytes", MaxLogoBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxLogoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read logo: %w", err)
	}
	if len(data) > MaxLogoBytes {
		return nil, fmt.Errorf("logo is larger than %d bytes", MaxLogoBytes)
	}
	return decodeLogo(data)
}

// decodeLogo decodes a PNG, JPEG or GIF whose header declares at most
// MaxLogoPixels, and returns it scaled to fit MaxLogoEdge square.
func decodeLogo(data []byte) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("logo is not a PNG, JPEG or GIF: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxLogoPixels || cfg.Height > MaxLogoPixels ||
		cfg.Width*cfg.Height > MaxLogoPixels {
		return nil, fmt.Errorf("logo of %dx%d pixels is larger than %d pixels", cfg.Width, cfg.Height, MaxLogoPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s logo: %w", format, err)
	}
	if b := img.Bounds(); b.Dx()*b.Dy() > MaxLogoPixels {
		return nil, fmt.Errorf("logo decoded to %dx%d pixels", b.Dx(), b.Dy())
	}
	return scaleToFit(img, MaxLogoEdge, MaxLogoEdge), nil
}

// scaleToFit returns img scaled down (never up) to fit w×h, keeping its
// aspect ratio, by averaging the source pixels under each target pixel.
func scaleToFit(img image.Image, w, h int) *image.RGBA {
	sb := img.Bounds()
	scale := math.Min(1, math.Min(float64(w)/float64(sb.Dx()), float64(h)/float64(sb.Dy())))
	tw, th := max(1, int(float64(sb.Dx())*scale)), max(1, int(float64(sb.Dy())*scale))
	out := image.NewRGBA(image.Rect(0, 0, tw, th))
	for ty := 0; ty < th; ty++ {
		sy0, sy1 := sb.Min.Y+ty*sb.Dy()/th, sb.Min.Y+(ty+1)*sb.Dy()/th
		for tx := 0; tx < tw; tx++ {
			sx0, sx1 := sb.Min.X+tx*sb.Dx()/tw, sb.Min.X+(tx+1)*sb.Dx()/tw
			var r, g, b, a, n uint64
			for sy := sy0; sy < max(sy1, sy0+1); sy++ {
				for sx := sx0; sx < max(sx1, sx0+1); sx++ {
					cr, cg, cb, ca := img.At(sx, sy).RGBA()
					r, g, b, a, n = r+uint64(cr), g+uint64(cg), b+uint64(cb), a+uint64(ca), n+1
				}
			}
			out.Set(tx, ty, color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(b / n), A: uint16(a / n)})
		}
	}
	return out
}
