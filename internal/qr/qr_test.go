package qr

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"
)

const link = "https://activate.example.com/a/act_0123456789abcdefghijklmnopqrstuv"

// parseSVG checks that doc is well-formed XML and returns the viewBox size and
// the path data of its single path.
func parseSVG(t *testing.T, doc []byte) (int, string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var (
		viewBox, d string
		paths      int
		root       = true
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, doc)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root {
			if se.Name.Local != "svg" || se.Name.Space != "http://www.w3.org/2000/svg" {
				t.Fatalf("root element is %v, want svg in the SVG namespace", se.Name)
			}
			root = false
		}
		for _, a := range se.Attr {
			switch {
			case se.Name.Local == "svg" && a.Name.Local == "viewBox":
				viewBox = a.Value
			case se.Name.Local == "svg" && a.Name.Local == "shape-rendering" && a.Value != "crispEdges":
				t.Errorf("shape-rendering = %q, want crispEdges", a.Value)
			case se.Name.Local == "path" && a.Name.Local == "d":
				d = a.Value
			}
		}
		if se.Name.Local == "path" {
			paths++
		}
	}
	if paths != 1 {
		t.Fatalf("SVG has %d paths, want 1", paths)
	}
	var x0, y0, w, h int
	if _, err := fmt.Sscanf(viewBox, "%d %d %d %d", &x0, &y0, &w, &h); err != nil || x0 != 0 || y0 != 0 || w != h {
		t.Fatalf("viewBox = %q, want 0 0 N N", viewBox)
	}
	return w, d
}

var runRE = regexp.MustCompile(`^M(\d+) (\d+)h(\d+)v1h-(\d+)z`)

// modules redraws the path data as a module matrix.
func modules(t *testing.T, n int, d string) [][]bool {
	t.Helper()
	m := make([][]bool, n)
	for i := range m {
		m[i] = make([]bool, n)
	}
	for d != "" {
		g := runRE.FindStringSubmatch(d)
		if g == nil {
			t.Fatalf("unexpected path data at %q", d[:min(len(d), 30)])
		}
		x, _ := strconv.Atoi(g[1])
		y, _ := strconv.Atoi(g[2])
		w, _ := strconv.Atoi(g[3])
		back, _ := strconv.Atoi(g[4])
		if w != back || w == 0 || x+w > n || y >= n {
			t.Fatalf("bad run %q in a %d-module code", g[0], n)
		}
		for i := x; i < x+w; i++ {
			m[y][i] = true
		}
		d = d[len(g[0]):]
	}
	return m
}

func TestSVGMatchesTheLibraryBitmap(t *testing.T) {
	for _, content := range []string{link, "x", strings.Repeat("https://example.com/", 20)} {
		doc, err := SVG(content)
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		n, d := parseSVG(t, doc)
		q, err := qrcode.New(content, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		want := q.Bitmap()
		if n != len(want) {
			t.Fatalf("SVG has %d modules a side, the library %d", n, len(want))
		}
		got := modules(t, n, d)
		for y := range want {
			for x := range want[y] {
				if got[y][x] != want[y][x] {
					t.Fatalf("module (%d,%d) = %v, want %v", x, y, got[y][x], want[y][x])
				}
			}
		}
		// The quiet zone: four light modules on every side.
		for i := 0; i < n; i++ {
			for j := 0; j < 4; j++ {
				if got[j][i] || got[n-1-j][i] || got[i][j] || got[i][n-1-j] {
					t.Fatalf("dark module in the quiet zone near (%d,%d)", i, j)
				}
			}
		}
	}
}

func TestSVGIsCompactAndDeterministic(t *testing.T) {
	a, err := SVG(link)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SVG(link)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the same content gave two different images")
	}
	if len(a) > 12000 {
		t.Errorf("SVG of a landing link is %d bytes; expected a compact path", len(a))
	}
	if bytes.Contains(a, []byte("act_0123456789")) {
		t.Error("the SVG carries the content as text")
	}
}

func TestDifferentContentsDiffer(t *testing.T) {
	a, err := SVG(link)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SVG(link + "x")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("SVG: two contents gave the same image")
	}
	pa, err := PNG(link, 256)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := PNG(link+"x", 256)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(pa, pb) {
		t.Error("PNG: two contents gave the same image")
	}
}

func TestPNG(t *testing.T) {
	out, err := PNG(link, 300)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 300 {
		t.Errorf("PNG is %dx%d, want 300x300", b.Dx(), b.Dy())
	}
	for _, size := range []int{0, -5} {
		if _, err := PNG(link, size); err == nil {
			t.Errorf("PNG(size %d): no error", size)
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := SVG(""); err == nil {
		t.Error("SVG(empty): no error")
	}
	secret := strings.Repeat("secret", 1000) // longer than a QR code holds
	_, err := SVG(secret)
	if err == nil {
		t.Fatal("SVG(too long): no error")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error quotes the content: %v", err)
	}
}

func BenchmarkSVG(b *testing.B) {
	for b.Loop() {
		if _, err := SVG(link); err != nil {
			b.Fatal(err)
		}
	}
}
