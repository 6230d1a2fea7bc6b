package qrcodes

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // logo formats
	_ "image/jpeg"
	"image/png"
	"math"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/shortlinks"
)

// Design is how a symbol is drawn. The zero value is not valid; use
// DefaultDesign and Design.Validate.
type Design struct {
	FgColor string // #rrggbb
	BgColor string // #rrggbb
	Size    int    // image width and height in pixels
	Level   string // L, M, Q or H
	Margin  int    // quiet zone, in modules
	Logo    *string
}

// Design limits and defaults.
const (
	DefaultFgColor = "#000000"
	DefaultBgColor = "#ffffff"
	DefaultSize    = 600
	MinSize        = 64
	MaxSize        = 2048
	DefaultLevel   = "M"
	DefaultMargin  = 4
	MaxMargin      = 16
	// MinContrast is the lowest WCAG contrast ratio between the colours that we
	// accept: below it phone cameras stop telling modules apart.
	MinContrast = 2.0
	// LogoShare is the largest share of the symbol's width a logo may cover;
	// with level Q or H the covered modules are well within what error
	// correction restores.
	LogoShare = 0.2
)

// DefaultDesign is the design of a code that says nothing about its looks.
func DefaultDesign() Design {
	return Design{FgColor: DefaultFgColor, BgColor: DefaultBgColor, Size: DefaultSize, Level: DefaultLevel, Margin: DefaultMargin}
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Normalize lower-cases the colours, upper-cases the level, and raises the level to Q when a logo
// covers part of the symbol (a logo with L or M would eat too much of the
// error correction). It then validates.
func (d Design) Normalize() (Design, error) {
	d.FgColor = strings.ToLower(d.FgColor)
	d.BgColor = strings.ToLower(d.BgColor)
	d.Level = strings.ToUpper(d.Level)
	if d.Logo != nil && (d.Level == "L" || d.Level == "M") {
		d.Level = "Q"
	}
	return d, d.Validate()
}

// Validate checks every design option.
func (d Design) Validate() error {
	if !colorRE.MatchString(d.FgColor) {
		return errs.Invalid("fgColor must be a colour like #1a2b3c")
	}
	if !colorRE.MatchString(d.BgColor) {
		return errs.Invalid("bgColor must be a colour like #1a2b3c")
	}
	if strings.EqualFold(d.FgColor, d.BgColor) {
		return errs.Invalid("fgColor and bgColor must differ")
	}
	if c := contrast(parseColor(d.FgColor), parseColor(d.BgColor)); c < MinContrast {
		return errs.Invalid("fgColor and bgColor have a contrast ratio of %.2f; at least %.1f is needed for scanners", c, MinContrast)
	}
	if d.Size < MinSize || d.Size > MaxSize {
		return errs.Invalid("size must be from %d to %d pixels", MinSize, MaxSize)
	}
	if _, ok := levels[d.Level]; !ok {
		return errs.Invalid("level must be L, M, Q or H")
	}
	if d.Margin < 0 || d.Margin > MaxMargin {
		return errs.Invalid("margin must be from 0 to %d modules", MaxMargin)
	}
	if d.Logo != nil {
		if err := shortlinks.ValidateURL("logo", *d.Logo); err != nil {
			return err
		}
		if len(*d.Logo) > 2000 {
			return errs.Invalid("logo must be at most 2000 characters")
		}
	}
	return nil
}

var levels = map[string]qrcode.RecoveryLevel{"L": qrcode.Low, "M": qrcode.Medium, "Q": qrcode.High, "H": qrcode.Highest}

func parseColor(s string) color.RGBA {
	v, _ := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// contrast is the WCAG 2 contrast ratio of two colours (1 to 21).
func contrast(a, b color.RGBA) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.RGBA) float64 {
	ch := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(c.R) + 0.7152*ch(c.G) + 0.0722*ch(c.B)
}

// Matrix computes the modules of payload at level, without quiet zone:
// m[y][x] is true for a dark module.
func Matrix(payload string, level string) ([][]bool, error) {
	l, ok := levels[level]
	if !ok {
		return nil, errs.Invalid("level must be L, M, Q or H")
	}
	if payload == "" {
		return nil, errs.Invalid("nothing to encode")
	}
	if len(payload) > MaxPayloadBytes {
		return nil, errs.Invalid("the encoded content is %d bytes; at most %d fit", len(payload), MaxPayloadBytes)
	}
	q, err := qrcode.New(payload, l)
	if err != nil {
		return nil, errs.Invalid("the encoded content is too long for level %s: %v", level, err)
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}

// layout places the symbol in the image: an integer module size so that modules
// stay crisp, and the left-over pixels split around it as extra quiet zone.
type layout struct {
	modules int // symbol width in modules, without margin
	px      int // pixels per module
	offset  int // pixels from the image edge to the first module
}

func computeLayout(modules int, d Design) (layout, error) {
	total := modules + 2*d.Margin
	px := d.Size / total
	if px < 1 {
		return layout{}, errs.Invalid("size %d is too small for this content: it needs at least %d pixels", d.Size, total)
	}
	return layout{modules: modules, px: px, offset: (d.Size - modules*px) / 2}, nil
}

// logoBox is the square, in pixels, that the logo pad covers: centred, at most
// LogoShare of the symbol's width, aligned to whole modules.
func (l layout) logoBox() image.Rectangle {
	n := int(float64(l.modules) * LogoShare)
	if (l.modules-n)%2 != 0 {
		n--
	}
	start := l.offset + (l.modules-n)/2*l.px
	return image.Rect(start, start, start+n*l.px, start+n*l.px)
}

// RenderPNG draws payload as a PNG of exactly d.Size pixels square. logo may be nil.
func RenderPNG(payload string, d Design, logo image.Image) ([]byte, error) {
	m, err := Matrix(payload, d.Level)
	if err != nil {
		return nil, err
	}
	l, err := computeLayout(len(m), d)
	if err != nil {
		return nil, err
	}
	fg, bg := parseColor(d.FgColor), parseColor(d.BgColor)
	img := image.NewPaletted(image.Rect(0, 0, d.Size, d.Size), color.Palette{bg, fg})
	if logo != nil {
		// Logos need full colour.
		rgba := image.NewRGBA(img.Rect)
		drawModules(rgba, m, l, fg, bg)
		box := l.logoBox()
		draw.Draw(rgba, box, image.NewUniform(bg), image.Point{}, draw.Src)
		drawLogo(rgba, box.Inset(l.px/2), logo)
		return encodePNG(rgba)
	}
	drawModules(img, m, l, fg, bg)
	return encodePNG(img)
}

func drawModules(img draw.Image, m [][]bool, l layout, fg, bg color.RGBA) {
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	ufg := image.NewUniform(fg)
	for y, row := range m {
		for x, dark := range row {
			if dark {
				r := image.Rect(l.offset+x*l.px, l.offset+y*l.px, l.offset+(x+1)*l.px, l.offset+(y+1)*l.px)
				draw.Draw(img, r, ufg, image.Point{}, draw.Src)
			}
		}
	}
}

// drawLogo scales logo to fit box (keeping its aspect ratio) and draws it
// centred over what is there.
func drawLogo(dst *image.RGBA, box image.Rectangle, logo image.Image) {
	sb := logo.Bounds()
	if sb.Dx() == 0 || sb.Dy() == 0 || box.Dx() <= 0 {
		return
	}
	scale := math.Min(float64(box.Dx())/float64(sb.Dx()), float64(box.Dy())/float64(sb.Dy()))
	w, h := max(1, int(float64(sb.Dx())*scale)), max(1, int(float64(sb.Dy())*scale))
	var scaled image.Image
	if scale <= 1 {
		scaled = scaleToFit(logo, w, h)
	} else { // a small logo is drawn larger: nearest pixel
		up := image.NewRGBA(image.Rect(0, 0, w, h))
		for ty := 0; ty < h; ty++ {
			for tx := 0; tx < w; tx++ {
				up.Set(tx, ty, logo.At(sb.Min.X+tx*sb.Dx()/w, sb.Min.Y+ty*sb.Dy()/h))
			}
		}
		scaled = up
	}
	x0, y0 := box.Min.X+(box.Dx()-w)/2, box.Min.Y+(box.Dy()-h)/2
	draw.Draw(dst, image.Rect(x0, y0, x0+w, y0+h), scaled, image.Point{}, draw.Over)
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qrcodes: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// RenderSVG draws payload as an SVG: a background rect, the dark modules as
// one path of horizontal runs, and, with a logo, a background pad and the logo
// embedded as a PNG data URL. The viewBox is in pixels of the same layout as the
// PNG, so both formats look alike.
func RenderSVG(payload string, d Design, logo image.Image) ([]byte, error) {
	m, err := Matrix(payload, d.Level)
	if err != nil {
		return nil, err
	}
	l, err := computeLayout(len(m), d)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, d.Size, d.Size, d.Size, d.Size)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="%s"/>`, d.Size, d.Size, d.BgColor)
	fmt.Fprintf(&b, `<path fill="%s" d="`, d.FgColor)
	for y, row := range m {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv%dh-%dz", l.offset+x*l.px, l.offset+y*l.px, run*l.px, l.px, run*l.px)
			x += run
		}
	}
	b.WriteString(`"/>`)
	if logo != nil {
		box := l.logoBox()
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, box.Min.X, box.Min.Y, box.Dx(), box.Dy(), d.BgColor)
		in := box.Inset(l.px / 2)
		// Embedded at the size it is shown, never larger.
		logoPNG, err := encodePNG(scaleToFit(logo, max(1, in.Dx()), max(1, in.Dy())))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, `<image x="%d" y="%d" width="%d" height="%d" preserveAspectRatio="xMidYMid meet" href="data:image/png;base64,%s"/>`,
			in.Min.X, in.Min.Y, in.Dx(), in.Dy(), base64.StdEncoding.EncodeToString(logoPNG))
	}
	b.WriteString(`</svg>`)
	return b.Bytes(), nil
}

// Format is an image format of the renderer.
type Format string

// The two formats.
const (
	FormatPNG Format = "png"
	FormatSVG Format = "svg"
)

// ContentType is the MIME type of f.
func (f Format) ContentType() string {
	if f == FormatSVG {
		return "image/svg+xml"
	}
	return "image/png"
}

// ParseFormat reads the format query parameter (default png).
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "png":
		return FormatPNG, nil
	case "svg":
		return FormatSVG, nil
	}
	return "", errs.BadInput("format must be png or svg")
}

// ErrRendererBusy means every render slot stayed taken for RenderQueueWait;
// the API answers 503 with Retry-After.
var ErrRendererBusy = errors.New("qrcodes: the renderer is busy")

// RenderQueueWait is how long a render waits for one of renderSlots.
const RenderQueueWait = 2 * time.Second

// renderSlots is how many renders are drawn at once on a node: one per core,
// two at least. A 2048-pixel image with a logo takes 16 MiB while it is
// drawn, so the renderer's memory is bounded by this many of them.
func renderSlots() int { return max(2, runtime.GOMAXPROCS(0)) }

// Render draws payload in format f, fetching the logo if d has one. A logo
// that cannot be fetched or decoded is left out (and logged): a code that scans
// without its logo is better than no image.
func (s *Service) Render(ctx context.Context, payload string, d Design, f Format) ([]byte, error) {
	if len(payload) > MaxPayloadBytes {
		return nil, errs.Invalid("url must be at most %d bytes", MaxPayloadBytes)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	var logo image.Image
	if d.Logo != nil {
		img, err := s.logos.get(ctx, *d.Logo)
		if err != nil {
			s.logger.WarnContext(ctx, "qrcodes: rendering without logo", "logo", redactURL(*d.Logo), "err", err)
		} else {
			logo = img
		}
	}
	wait := time.NewTimer(s.renderWait)
	defer wait.Stop()
	select {
	case s.renderSem <- struct{}{}:
	case <-wait.C:
		return nil, ErrRendererBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.renderSem }()
	if f == FormatSVG {
		return RenderSVG(payload, d, logo)
	}
	return RenderPNG(payload, d, logo)
}

// RenderQuery is a parsed request of the public renderer.
type RenderQuery struct {
	Payload string
	Design  Design
	Format  Format
}

// ParseRenderQuery reads the public renderer's parameters: url (required, at
// most MaxPayloadBytes, any text), size, fgColor, bgColor, level, margin, logo,
// format. Unreadable values are BadInput (400), out-of-range ones Invalid (422).
func ParseRenderQuery(v url.Values) (RenderQuery, error) {
	q := RenderQuery{Payload: v.Get("url"), Design: DefaultDesign()}
	if q.Payload == "" {
		return q, errs.BadInput("url is required")
	}
	if len(q.Payload) > MaxPayloadBytes {
		return q, errs.Invalid("url must be at most %d bytes", MaxPayloadBytes)
	}
	var err error
	for _, p := range []struct {
		name string
		dst  *int
	}{{"size", &q.Design.Size}, {"margin", &q.Design.Margin}} {
		if s := v.Get(p.name); s != "" {
			if *p.dst, err = strconv.Atoi(s); err != nil {
				return q, errs.BadInput("%s must be a whole number", p.name)
			}
		}
	}
	if s := v.Get("fgColor"); s != "" {
		q.Design.FgColor = s
	}
	if s := v.Get("bgColor"); s != "" {
		q.Design.BgColor = s
	}
	if s := v.Get("level"); s != "" {
		q.Design.Level = strings.ToUpper(s)
	}
	if s := v.Get("logo"); s != "" {
		q.Design.Logo = &s
	}
	if q.Format, err = ParseFormat(v.Get("format")); err != nil {
		return q, err
	}
	if q.Design, err = q.Design.Normalize(); err != nil {
		return q, err
	}
	if _, err := Matrix(q.Payload, q.Design.Level); err != nil {
		return q, err
	}
	return q, nil
}

// ImageURL is the public renderer URL of payload drawn with d.
func ImageURL(baseURL, payload string, d Design) string {
	v := url.Values{
		"url":     {payload},
		"size":    {strconv.Itoa(d.Size)},
		"fgColor": {d.FgColor},
		"bgColor": {d.BgColor},
		"level":   {d.Level},
		"margin":  {strconv.Itoa(d.Margin)},
	}
	if d.Logo != nil {
		v.Set("logo", *d.Logo)
	}
	return baseURL + "/api/qr?" + v.Encode()
}

// redactURL drops userinfo and the query from a URL before it is logged: both
// may carry credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
