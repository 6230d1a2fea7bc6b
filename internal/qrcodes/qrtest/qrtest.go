// Package qrtest decodes rendered QR images in tests, with an independent
// decoder (gozxing, a port of ZXing), so that a test proves a phone would read
// what the renderer drew. It is imported only by _test files.
package qrtest

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"regexp"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Decode reads the one QR code in img.
func Decode(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("qrtest: bitmap: %v", err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_CHARACTER_SET: "UTF-8"}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		hints[gozxing.DecodeHintType_TRY_HARDER] = true
		if res, err = qrcode.NewQRCodeReader().Decode(bmp, hints); err != nil {
			t.Fatalf("qrtest: decode: %v", err)
		}
	}
	return res.GetText()
}

// DecodePNG checks that data is a PNG of size×size pixels and decodes it.
func DecodePNG(t testing.TB, data []byte, size int) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("qrtest: not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
		t.Fatalf("qrtest: PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), size, size)
	}
	return Decode(t, img)
}

var (
	svgRE   = regexp.MustCompile(`^<svg xmlns="http://www.w3.org/2000/svg" width="(\d+)" height="(\d+)" viewBox="0 0 (\d+) (\d+)" shape-rendering="crispEdges">`)
	rectRE  = regexp.MustCompile(`<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="(#[0-9a-f]{6})"/>`)
	pathRE  = regexp.MustCompile(`<path fill="(#[0-9a-f]{6})" d="([^"]*)"/>`)
	runRE   = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v(\d+)h-(\d+)z`)
	elemRE  = regexp.MustCompile(`<(rect|path|image) [^>]*/>`)
	closeRE = regexp.MustCompile(`</svg>$`)
)

// RasterSVG draws the exact SVG dialect the renderer emits (rects and a path
// of axis-aligned runs; embedded images are skipped, leaving their pad) into
// an image, failing on anything it does not understand. It also returns the
// declared size.
func RasterSVG(t testing.TB, data []byte) (image.Image, int) {
	t.Helper()
	s := string(data)
	m := svgRE.FindStringSubmatch(s)
	if m == nil || !closeRE.MatchString(s) {
		t.Fatalf("qrtest: unexpected SVG frame: %.200s", s)
	}
	w := atoi(t, m[1])
	if m[2] != m[1] || m[3] != m[1] || m[4] != m[1] {
		t.Fatalf("qrtest: SVG is not square with a pixel viewBox: %s", m[0])
	}
	img := image.NewRGBA(image.Rect(0, 0, w, w))
	body := s[len(m[0]) : len(s)-len("</svg>")]
	consumed := 0
	for _, loc := range elemRE.FindAllStringIndex(body, -1) {
		if loc[0] != consumed {
			t.Fatalf("qrtest: unexpected SVG content: %.100s", body[consumed:loc[0]])
		}
		consumed = loc[1]
		el := body[loc[0]:loc[1]]
		switch {
		case rectRE.MatchString(el):
			r := rectRE.FindStringSubmatch(el)
			x, y := atoi(t, r[1]), atoi(t, r[2])
			fill(img, image.Rect(x, y, x+atoi(t, r[3]), y+atoi(t, r[4])), r[5])
		case pathRE.MatchString(el):
			p := pathRE.FindStringSubmatch(el)
			d := p[2]
			if runRE.ReplaceAllString(d, "") != "" {
				t.Fatalf("qrtest: unexpected path data: %.100s", runRE.ReplaceAllString(d, ""))
			}
			for _, r := range runRE.FindAllStringSubmatch(d, -1) {
				x, y, dx, dy := atoi(t, r[1]), atoi(t, r[2]), atoi(t, r[3]), atoi(t, r[4])
				if r[5] != r[3] {
					t.Fatalf("qrtest: run does not close: %s", r[0])
				}
				fill(img, image.Rect(x, y, x+dx, y+dy), p[1])
			}
		case el[:6] == "<image":
		default:
			t.Fatalf("qrtest: unexpected SVG element: %.100s", el)
		}
	}
	if consumed != len(body) {
		t.Fatalf("qrtest: unexpected SVG tail: %.100s", body[consumed:])
	}
	return img, w
}

func fill(img *image.RGBA, r image.Rectangle, hex string) {
	v, _ := strconv.ParseUint(hex[1:], 16, 32)
	c := color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("qrtest: %q is not a number", s)
	}
	return n
}

// DecodeSVG rasterises data, checks its size and decodes it.
func DecodeSVG(t testing.TB, data []byte, size int) string {
	t.Helper()
	img, w := RasterSVG(t, data)
	if w != size {
		t.Fatalf("qrtest: SVG is %d wide, want %d", w, size)
	}
	return Decode(t, img)
}

// LogoPNG is a colourful test logo of w×h pixels.
func LogoPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 255 / w), G: 40, B: uint8(y * 255 / h), A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
