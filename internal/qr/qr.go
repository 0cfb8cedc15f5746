// Package qr draws QR codes of activator's https links: the landing page shows
// one of its own URL so that someone who opened it on a computer can carry it
// to the phone with the camera. A QR code holds a URL, never a credential.
package qr

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/skip2/go-qrcode"
)

// level is medium error correction (about 15% of the code may be damaged):
// enough for a screen, and a smaller code than the higher levels.
const level = qrcode.Medium

// encode builds the code of content; the error does not quote content, which
// is usually a secret link.
func encode(content string) (*qrcode.QRCode, error) {
	if content == "" {
		return nil, fmt.Errorf("qr: encoding: empty content")
	}
	q, err := qrcode.New(content, level)
	if err != nil {
		return nil, fmt.Errorf("qr: encoding %d bytes: %w", len(content), err)
	}
	return q, nil
}

// SVG renders content as an SVG image. One module is one user unit of the
// viewBox, the quiet zone (four modules) is included, and the dark modules are
// a single path of one rectangle per horizontal run, drawn with crisp edges so
// that scaling keeps the modules sharp. The white background is explicit so the
// code stays readable on a dark page.
func SVG(content string) ([]byte, error) {
	q, err := encode(content)
	if err != nil {
		return nil, err
	}
	bitmap := q.Bitmap() // includes the quiet zone
	n := len(bitmap)
	size := strconv.Itoa(n)
	px := strconv.Itoa(n * 8)

	var b bytes.Buffer
	b.Grow(256 + n*n)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `)
	b.WriteString(size + " " + size)
	b.WriteString(`" width="` + px + `" height="` + px)
	b.WriteString(`" shape-rendering="crispEdges"><rect width="`)
	b.WriteString(size + `" height="` + size)
	b.WriteString(`" fill="#fff"/><path fill="#000" d="`)
	num := make([]byte, 0, 8)
	for y, row := range bitmap {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			run := x - start
			b.WriteByte('M')
			b.Write(strconv.AppendInt(num[:0], int64(start), 10))
			b.WriteByte(' ')
			b.Write(strconv.AppendInt(num[:0], int64(y), 10))
			b.WriteByte('h')
			b.Write(strconv.AppendInt(num[:0], int64(run), 10))
			b.WriteString("v1h-")
			b.Write(strconv.AppendInt(num[:0], int64(run), 10))
			b.WriteByte('z')
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// PNG renders content as a size×size PNG image, quiet zone included.
func PNG(content string, size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("qr: png size %d: must be positive", size)
	}
	q, err := encode(content)
	if err != nil {
		return nil, err
	}
	out, err := q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("qr: writing png: %w", err)
	}
	return out, nil
}
