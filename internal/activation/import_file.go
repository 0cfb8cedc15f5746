package activation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/store"
)

// pieceSize is about how large a piece of a kept import file is: pieces
// are cut at line ends, so that a file of any size goes into the database
// and comes out of it a megabyte at a time.
const pieceSize = 1 << 20

// pieceCutter cuts a file read from r into pieces of at most pieceSize
// bytes, each ending at a line end where one is, and never inside a
// character; it refuses a file that is not UTF-8 text, or that holds a
// NUL byte, which no text file has (and PostgreSQL refuses in text).
type pieceCutter struct {
	r       io.Reader
	buf     []byte
	pending int // bytes of buf carried over from the last piece
	eof     bool
	lines   int // line ends in the pieces returned so far
}

func newPieceCutter(r io.Reader) *pieceCutter {
	return &pieceCutter{r: r, buf: make([]byte, pieceSize)}
}

// next returns the next piece; false when the file has ended.
func (c *pieceCutter) next() (string, bool, error) {
	n := 0
	if !c.eof {
		var err error
		n, err = io.ReadFull(c.r, c.buf[c.pending:])
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			c.eof = true
		case err != nil:
			return "", false, err
		}
	}
	data := c.buf[:c.pending+n]
	if len(data) == 0 {
		return "", false, nil
	}
	cut := len(data)
	if !c.eof {
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			cut = i + 1
		} else {
			for cut = len(data) - 1; cut > 0 && !utf8.RuneStart(data[cut]); cut-- {
			}
		}
	}
	piece := string(data[:cut])
	if !utf8.ValidString(piece) {
		return "", false, invalid("file", "the file is not UTF-8 text; save the spreadsheet as CSV UTF-8")
	}
	if i := strings.IndexByte(piece, 0); i >= 0 {
		return "", false, invalid("file", "line %d: the file holds a NUL byte, which no text file has; save the spreadsheet as CSV UTF-8",
			c.lines+strings.Count(piece[:i], "\n")+1)
	}
	c.lines += strings.Count(piece, "\n")
	c.pending = copy(c.buf, data[cut:])
	return piece, true, nil
}

// keepFile stores the file read from src as the pieces of import im, and
// returns its first piece, which holds its header line; im.Size counts it.
func keepFile(ctx context.Context, tx *store.Tx, im *store.Import, src io.Reader) (string, error) {
	c := newPieceCutter(io.LimitReader(src, MaxImportBytes+1))
	var first string
	size := 0
	for seq := 0; ; seq++ {
		piece, ok, err := c.next()
		if err != nil {
			var de *Error
			if errors.As(err, &de) {
				return "", err
			}
			return "", fmt.Errorf("reading the file: %w", err)
		}
		if !ok {
			im.Size = int64(size)
			return first, nil
		}
		if size += len(piece); size > MaxImportBytes {
			return "", invalid("file", "the file is larger than %d MiB", MaxImportBytes>>20)
		}
		if seq == 0 {
			first = piece
		}
		if err := tx.AddImportFilePiece(ctx, im.ID, seq, piece); err != nil {
			return "", err
		}
	}
}

// fileOf reads an import's kept file: its pieces, one at a time, or the
// whole file an import uploaded before pieces kept in its row.
func (s *Imports) fileOf(ctx context.Context, im *store.Import) io.Reader {
	if im.Content != "" {
		return strings.NewReader(im.Content)
	}
	return &pieceReader{ctx: ctx, st: s.store, id: im.ID}
}

// hasFile reports whether an import still keeps its file.
func hasFile(im *store.Import) bool { return im.Content != "" || im.Pieces > 0 }

// pieceReader reads an import's file from its pieces, fetching each when
// the one before is used up.
type pieceReader struct {
	ctx context.Context
	st  *store.Store
	id  int64
	seq int
	cur string
}

func (r *pieceReader) Read(p []byte) (int, error) {
	for r.cur == "" {
		data, ok, err := r.st.ImportFilePiece(r.ctx, r.id, r.seq)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, io.EOF
		}
		r.seq++
		r.cur = data
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
