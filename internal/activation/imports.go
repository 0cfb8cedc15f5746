package activation

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Import columns, by their header names. Headers are matched without regard
// to case, spaces, dashes or underscores, so "Full name", "full_name" and
// "FULLNAME" are one column; a few short aliases are accepted.
const (
	ColName          = "full name"
	ColMobile        = "mobile number"
	ColEmail         = "e-mail"
	ColSecurityModel = "security model"
	ColDescription   = "description"
	ColGroup         = "group"
	ColProfile       = "profile"
	ColLanguage      = "language"
)

// ImportColumns lists the columns an import file may have, in the order an
// export writes them.
var ImportColumns = []string{ColName, ColMobile, ColEmail, ColSecurityModel, ColDescription, ColGroup, ColProfile, ColLanguage}

// Column indexes: a row's cells are kept in an array by these, in the
// order of ImportColumns, not in a map per row.
const (
	colName = iota
	colMobile
	colEmail
	colSecurityModel
	colDescription
	colGroup
	colProfile
	colLanguage
	numColumns
	colNone = -1 // a cell in no column: an export's own, ignored
)

// columnIndex is the index of each column by its name.
var columnIndex = func() map[string]int {
	m := make(map[string]int, len(ImportColumns))
	for i, c := range ImportColumns {
		m[c] = i
	}
	return m
}()

var columnAliases = map[string]string{
	"fullname": ColName, "name": ColName, "displayname": ColName,
	"mobilenumber": ColMobile, "mobile": ColMobile, "phone": ColMobile,
	"email": ColEmail, "mail": ColEmail,
	"securitymodel": ColSecurityModel, "security": ColSecurityModel,
	"description": ColDescription, "group": ColGroup, "profile": ColProfile, "language": ColLanguage,
	// An export's own columns: read back without complaint, and ignored.
	"username": "", "virtualnumber": "", "status": "", "createdat": "", "activatedat": "",
}

func normaliseHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(h)
}

// MaxImportBytes bounds an import file.
const MaxImportBytes = 64 << 20

// importBatch is how many rows one import transaction writes; a failed or
// interrupted import resumes from the last committed batch.
const importBatch = 1000

// Imports brings accounts in from a CSV file: every row validated with the
// rules of one account and shown in a preview, the file kept until it is
// confirmed, then imported in batches and, if asked, sent their links.
type Imports struct {
	store    *store.Store
	settings *Settings
	links    *Links // sends the activations an import asks for
	log      *slog.Logger
	wake     chan struct{}           // rings RunJobs when there is new work
	mobiles  *mobileMemo             // the mobile numbers checks read, for their confirmations
	boot     string                  // tells this process's claims of confirmations from an earlier one's
	draw     func(digits int) string // a new account's username: secret.RandomDigits, a test's sequence

	jobsMu   sync.Mutex
	instance string          // this instance's name in claims, once RunJobs runs
	jobsCtx  context.Context // RunJobs's: confirmations run until it ends
}

// NewImports returns the imports of the organisations in st.
func NewImports(st *store.Store, settings *Settings, links *Links, log *slog.Logger) *Imports {
	return &Imports{store: st, settings: settings, links: links, log: orDiscard(log), wake: make(chan struct{}, 1),
		mobiles: newMobileMemo(mobileMemoSize), boot: secret.RandomDigits(12), draw: secret.RandomDigits}
}

// ImportOptions are what an import applies to rows that leave it unsaid.
type ImportOptions struct {
	Group   string `json:"group,omitempty"`   // for rows without a group
	Profile string `json:"profile,omitempty"` // for rows without a profile
	Send    string `json:"send,omitempty"`    // "", sms or email: send activations after importing
}

// importRow is a parsed, validated row.
type importRow struct {
	line   int
	row    *store.AccountRow
	errors []model.ImportRowError
	match  importMatch
}

// importMatch is what a valid row matched: an existing account, or an
// earlier row of the same file, which makes the account this row would
// make. The zero value matched nothing: the row makes a new account.
type importMatch struct {
	username string // the existing account's
	line     int    // earlierRow: an earlier row of the file
}

// earlierRow is the line of an importMatch with an earlier row of the file.
const earlierRow = -1

// found reports whether the row matched anything.
func (m importMatch) found() bool { return m.username != "" || m.line != 0 }

// importState is what validation needs: the organisation's groups and
// profiles, and the keys of its accounts (and of the file's rows read so
// far) for matching.
type importState struct {
	orgID    int64
	st       *Resolved
	groups   map[string]*store.GroupRow
	profiles map[string]int64
	// Matching keys (a mobile number, an e-mail, a group and name) are
	// kept by their hash with a random seed, not themselves, which keeps a
	// million-row file's keys in tens of megabytes: fileKeys has those of
	// the file's rows read so far, accountKeys those of the existing
	// accounts, by their index in existing.
	fileKeys    map[uint64]struct{}
	accountKeys map[uint64]int32
	seed        maphash.Seed
	existing    []string // existing accounts' usernames
	users       map[string]bool
	numbers     map[string]bool
	fillMemo    bool // a check's: the mobile numbers it reads are remembered for the confirmation
}

// Kinds of matching key, hashed in front of the key.
const (
	keyMobile byte = 'm'
	keyEmail  byte = 'e'
	keyName   byte = 'n'
)

func (is *importState) hash(kind byte, key string) uint64 {
	var h maphash.Hash
	h.SetSeed(is.seed)
	h.WriteByte(kind)
	h.WriteString(key)
	return h.Sum64()
}

// lookup finds what has a key: a row of the file first, since a row's
// key was remembered after the accounts'.
func (is *importState) lookup(kind byte, key string) (importMatch, bool) {
	h := is.hash(kind, key)
	if _, ok := is.fileKeys[h]; ok {
		return importMatch{line: earlierRow}, true
	}
	if i, ok := is.accountKeys[h]; ok {
		return importMatch{username: is.existing[i]}, true
	}
	return importMatch{}, false
}

// redrawTaken draws again the usernames of batch that an account of
// another organisation sharing username scope scope has: usernames are
// unique per SIP domain, and the import's own draws were checked against
// its organisation's only. In the batch's transaction, so on SQLite no
// other writer can take one between the check and the insert.
func (s *Imports) redrawTaken(ctx context.Context, r *store.Reader, scope int64, batch []*store.AccountRow, is *importState) error {
	names := make([]string, len(batch))
	for i, a := range batch {
		names[i] = a.Username
	}
	for range 20 {
		taken, err := r.UsernamesTaken(ctx, scope, names)
		if err != nil || len(taken) == 0 {
			return err
		}
		names = names[:0]
		for _, a := range batch {
			if !taken[a.Username] {
				continue
			}
			for is.users[a.Username] || taken[a.Username] {
				a.Username = s.draw(is.st.UsernameDigits)
			}
			is.users[a.Username] = true
			names = append(names, a.Username)
		}
	}
	return fmt.Errorf("drawing usernames not taken in the SIP domain: still taken after 20 draws; raise the username_digits setting")
}

func (s *Imports) loadImportState(ctx context.Context, orgID int64) (*importState, error) {
	st, err := s.settings.Current(ctx, orgID)
	if err != nil {
		return nil, err
	}
	is := &importState{orgID: orgID, st: st, groups: map[string]*store.GroupRow{}, profiles: map[string]int64{},
		fileKeys: map[uint64]struct{}{}, accountKeys: map[uint64]int32{}, seed: maphash.MakeSeed(), users: map[string]bool{}, numbers: map[string]bool{}}
	if err := s.loadGroupsAndProfiles(ctx, is); err != nil {
		return nil, err
	}
	keys, err := s.store.AccountKeys(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		is.users[k.Username], is.numbers[k.VirtualNumber] = true, true
		is.remember(importMatch{username: k.Username}, k.Mobile, k.Email, k.DisplayName, k.GroupID)
	}
	return is, nil
}

// loadGroupsAndProfiles reads the organisation's groups and profiles into is.
func (s *Imports) loadGroupsAndProfiles(ctx context.Context, is *importState) error {
	gs, err := s.store.Groups(ctx, is.orgID)
	if err != nil {
		return err
	}
	for _, g := range gs {
		gr, err := s.store.GroupByName(ctx, is.orgID, g.Name)
		if err != nil {
			return err
		}
		is.groups[g.Name] = gr
	}
	ps, err := s.store.Profiles(ctx, is.orgID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		is.profiles[p.Name] = p.ID
	}
	return nil
}

// freeNumbers counts the numbers of the range that no account holds.
func (is *importState) freeNumbers() uint64 {
	nr := is.st.Numbers
	lo, hi := nr.Format(nr.From), nr.Format(nr.To)
	var used uint64
	for n := range is.numbers {
		if len(n) == nr.Digits && n >= lo && n <= hi {
			used++
		}
	}
	return nr.Size() - used
}

// freeNumber draws a number of the range that no account holds: a random
// one if free, else the next free one after it, wrapping at the range's
// end, so a free number is found whenever one exists.
func (is *importState) freeNumber() (string, error) {
	nr := is.st.Numbers
	start, err := randomStart(nr)
	if err != nil {
		return "", err
	}
	n := start
	for range nr.Size() {
		if v := nr.Format(n); !is.numbers[v] {
			return v, nil
		}
		if n++; n > nr.To {
			n = nr.From
		}
	}
	return "", errNumbersExhausted(nr)
}

// checkNumbers refuses an import that needs more new virtual numbers than
// the range has free, before anything is written.
func (is *importState) checkNumbers(create int) error {
	free := is.freeNumbers()
	if uint64(create) <= free {
		return nil
	}
	nr := is.st.Numbers
	return conflict("virtual_numbers_exhausted", "file",
		"the file needs %d new virtual numbers but the range %s-%s has only %d free: widen the virtual_number_range setting or import fewer rows",
		create, nr.Format(nr.From), nr.Format(nr.To), free)
}

func nameKey(groupID int64, name string) string {
	return strconv.FormatInt(groupID, 10) + "\x00" + strings.ToLower(name)
}

// remember makes later rows with these keys match m.
func (is *importState) remember(m importMatch, mobile, email, name string, groupID int64) {
	keys := make([]uint64, 0, 3)
	if mobile != "" {
		keys = append(keys, is.hash(keyMobile, mobile))
	}
	if email != "" {
		keys = append(keys, is.hash(keyEmail, strings.ToLower(email)))
	}
	keys = append(keys, is.hash(keyName, nameKey(groupID, name)))
	if m.username == "" {
		for _, k := range keys {
			is.fileKeys[k] = struct{}{}
		}
		return
	}
	is.existing = append(is.existing, m.username)
	for _, k := range keys {
		is.accountKeys[k] = int32(len(is.existing) - 1)
	}
}

// match applies the matching rule: the same mobile number, else the same
// e-mail (any case), else, for rows with neither, the same full name in the
// same group.
func (is *importState) match(a *store.AccountRow) importMatch {
	if a.Mobile != "" {
		if m, ok := is.lookup(keyMobile, a.Mobile); ok {
			return m
		}
	}
	if a.Email != "" {
		if m, ok := is.lookup(keyEmail, strings.ToLower(a.Email)); ok {
			return m
		}
	}
	if a.Mobile == "" && a.Email == "" {
		m, _ := is.lookup(keyName, nameKey(a.GroupID, a.DisplayName))
		return m
	}
	return importMatch{}
}

// parseImport reads and validates every row of a file against an
// organisation's groups, profiles and accounts, and returns the rows with
// that state.
func (s *Imports) parseImport(ctx context.Context, orgID int64, content io.Reader, opts ImportOptions) ([]*importRow, *importState, error) {
	is, err := s.loadImportState(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	var rows []*importRow
	err = s.readRows(content, opts, is, func(ir *importRow, _ int64) error {
		rows = append(rows, ir)
		return nil
	})
	return rows, is, err
}

// rowChunk is how many records are validated at once, in parallel: a
// file of any size is read in pieces of this many rows.
const rowChunk = 4096

// openRows checks a file's header line, and returns a reader positioned
// at its first row with the column of each cell. The file's text was
// found UTF-8 when it was kept (keepFile).
func openRows(content io.Reader, opts ImportOptions, is *importState) (*csv.Reader, []int, error) {
	br := bufio.NewReaderSize(content, 64<<10)
	head, _ := br.Peek(64 << 10) // the header line, for its separator; less at the file's end
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	if sc := sniffSeparator(string(head)); sc != ',' {
		r.Comma = sc
	}
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, invalid("file", "the file is empty: it needs a header line (%s)", strings.Join(ImportColumns, ", "))
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, nil, invalid("file", "line 1: %v", pe.Err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the file: %w", err)
	}
	cols := make([]int, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		c, ok := columnAliases[normaliseHeader(h)]
		if !ok {
			return nil, nil, invalid("file", "line 1: unknown column %q: the columns are %s", h, strings.Join(ImportColumns, ", "))
		}
		if c == "" {
			cols[i] = colNone
			continue
		}
		if seen[c] {
			return nil, nil, invalid("file", "line 1: column %q appears twice", h)
		}
		seen[c], cols[i] = true, columnIndex[c]
	}
	if !seen[ColName] {
		return nil, nil, invalid("file", "line 1: the %q column is required", ColName)
	}
	if opts.Group == "" && !seen[ColGroup] {
		return nil, nil, invalid("group", "the file has no %q column: choose a group for its rows", ColGroup)
	}
	if opts.Group != "" && is.groups[opts.Group] == nil {
		return nil, nil, invalid("group", "no group named %q", opts.Group)
	}
	if opts.Profile != "" {
		if _, ok := is.profiles[opts.Profile]; !ok {
			return nil, nil, invalid("profile", "no profile named %q", opts.Profile)
		}
	}
	if opts.Send != "" && opts.Send != model.ChannelSMS && opts.Send != model.ChannelEmail {
		return nil, nil, invalid("send", "send must be sms or email, or nothing")
	}
	r.ReuseRecord = false
	return r, cols, nil
}

// readRows reads and validates every row of a file, rowChunk rows at a
// time, and hands each to each in file order with how many bytes of the
// file are read so far. Rows matching an existing account, or an earlier
// row, are marked with the match. Only a chunk of rows is held at once.
func (s *Imports) readRows(content io.Reader, opts ImportOptions, is *importState, each func(*importRow, int64) error) error {
	r, cols, err := openRows(content, opts, is)
	if err != nil {
		return err
	}
	type record struct {
		line  int
		cells []string
	}
	recs := make([]record, 0, rowChunk)
	rows := make([]*importRow, rowChunk)
	flush := func() error {
		// Cells are checked in parallel (phone numbers are the costly
		// part); matching runs after, in file order, because a row may
		// match an earlier row of the same file.
		workers := max(1, min(runtime.GOMAXPROCS(0), len(recs)/500))
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(recs); i += workers {
					rows[i] = s.validateRow(recs[i].line, cols, recs[i].cells, opts, is)
				}
			}(w)
		}
		wg.Wait()
		offset := r.InputOffset()
		for i := range recs {
			ir := rows[i]
			rows[i] = nil
			if len(ir.errors) == 0 {
				ir.match = is.match(ir.row)
				if !ir.match.found() {
					// Later rows of the same file match this one: no duplicates within a file either.
					is.remember(importMatch{line: earlierRow}, ir.row.Mobile, ir.row.Email, ir.row.DisplayName, ir.row.GroupID)
				}
			}
			if err := each(ir, offset); err != nil {
				return err
			}
		}
		recs = recs[:0]
		return nil
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return invalid("file", "line %d: %v", pe.Line, pe.Err)
			}
			return fmt.Errorf("reading the file: %w", err) // from the database: not the file's fault
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, record{line, rec})
		if len(recs) == rowChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// sniffSeparator picks ; or tab when the header line uses it instead of a comma
// (spreadsheets in many locales save CSV with semicolons).
func sniffSeparator(content string) rune {
	first, _, _ := strings.Cut(content, "\n")
	best, n := ',', strings.Count(first, ",")
	for _, c := range []rune{';', '\t'} {
		if k := strings.Count(first, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

func (s *Imports) validateRow(line int, cols []int, rec []string, opts ImportOptions, is *importState) *importRow {
	ir := &importRow{line: line}
	var cells [numColumns]string
	for i, v := range rec {
		if i < len(cols) && cols[i] != colNone {
			cells[cols[i]] = csvPlain(strings.TrimSpace(v))
		}
	}
	bad := func(col int, format string, args ...any) {
		e := model.ImportRowError{Row: line, Message: fmt.Sprintf(format, args...)}
		if col != colNone {
			e.Column, e.Value = ImportColumns[col], cells[col]
		}
		ir.errors = append(ir.errors, e)
	}
	if len(rec) > len(cols) {
		bad(colNone, "the line has %d cells, the header %d", len(rec), len(cols))
	}
	a := &store.AccountRow{OrgID: is.orgID, Account: model.Account{Kind: model.AccountWizard, Stage: model.StageNew, SecurityModel: model.EndToEnd}}
	ir.row = a
	name := cells[colName]
	if p := lineProblem("the full name", name, true, 200); p != "" {
		bad(colName, "%s", p)
	}
	a.DisplayName = name
	if m := cells[colMobile]; m != "" {
		n, err := s.mobiles.normalise(m, is.st.PhoneRegion, is.fillMemo)
		if err != nil {
			bad(colMobile, "%s", err.Error())
		}
		a.Mobile = n
	}
	if e := cells[colEmail]; e != "" {
		if err := validEmail("email", e); err != nil {
			bad(colEmail, "%s", err.Error())
		}
		a.Email = e
	}
	if v := cells[colSecurityModel]; v != "" {
		m := model.SecurityModel(strings.ToLower(v))
		if !m.Valid() {
			bad(colSecurityModel, "want end-to-end or end-to-site")
		}
		a.SecurityModel = m
	}
	if d := cells[colDescription]; textProblem("the description", d, 1000) != "" {
		bad(colDescription, "%s", textProblem("the description", d, 1000))
	} else {
		a.Description = d
	}
	group := cells[colGroup]
	if group == "" {
		group = opts.Group
	}
	if g := is.groups[group]; g != nil {
		a.GroupID, a.Group = g.ID, g.Name
	} else if group == "" {
		bad(colGroup, "no group: fill the cell or choose a group for the import")
	} else {
		bad(colGroup, "no group named %q", group)
	}
	profile := cells[colProfile]
	if profile == "" {
		profile = opts.Profile
	}
	if profile != "" {
		if id, ok := is.profiles[profile]; ok {
			a.ProfileID, a.Profile = &id, profile
		} else {
			bad(colProfile, "no profile named %q", profile)
		}
	}
	if l := strings.ToLower(cells[colLanguage]); l != "" {
		if !model.ValidLanguage(l) {
			bad(colLanguage, "want one of %s", strings.Join(model.Languages, ", "))
		}
		a.Language = l
	}
	switch {
	case opts.Send == model.ChannelSMS && a.Mobile == "" && cells[colMobile] == "":
		bad(colMobile, "a mobile number is needed to send by SMS")
	case opts.Send == model.ChannelEmail && a.Email == "" && cells[colEmail] == "":
		bad(colEmail, "an e-mail address is needed to send by e-mail")
	}
	return ir
}

// previewRows is how many rows a preview lists; the counts cover them all.
const previewRows = 500

// previewOf adds rows up into a preview as they are read: counts of all,
// the first previewRows rows, the first model.MaxPreviewErrors bad cells.
type previewOf struct{ p *model.ImportPreview }

func newPreviewOf(id int64, state model.ImportState, opts ImportOptions) previewOf {
	return previewOf{&model.ImportPreview{ID: id, State: state, Errors: []model.ImportRowError{}, Send: opts.Send}}
}

func (b previewOf) add(r *importRow) {
	p := b.p
	p.Total++
	action := "create"
	switch {
	case len(r.errors) > 0:
		action = "error"
		p.Invalid++
		for _, e := range r.errors {
			if len(p.Errors) < model.MaxPreviewErrors {
				p.Errors = append(p.Errors, e)
			} else {
				p.MoreErrors++
			}
		}
	case r.match.found():
		action = "exists"
		p.Exists++
	default:
		p.Create++
	}
	if len(p.Rows) < previewRows {
		p.Rows = append(p.Rows, model.ImportRow{Row: r.line, Name: r.row.DisplayName, Mobile: r.row.Mobile, Email: r.row.Email,
			Group: r.row.Group, Action: action, Username: r.match.username})
	}
}

func summarise(id int64, state model.ImportState, rows []*importRow, opts ImportOptions) *model.ImportPreview {
	b := newPreviewOf(id, state, opts)
	for _, r := range rows {
		b.add(r)
	}
	return b.p
}

// check reads and validates a file for its preview, a piece at a time,
// with bounded memory whatever its size, calling progress (when not nil)
// now and then with the rows and bytes read so far; it refuses a file with
// no rows, or whose new accounts the virtual number range cannot number.
func (s *Imports) check(ctx context.Context, orgID int64, content io.Reader, opts ImportOptions, progress func(rows int, read int64) error) (*model.ImportPreview, error) {
	is, err := s.loadImportState(ctx, orgID)
	if err != nil {
		return nil, err
	}
	s.mobiles.reset()
	is.fillMemo = true
	b := newPreviewOf(0, model.ImportPreviewed, opts)
	err = s.readRows(content, opts, is, func(ir *importRow, read int64) error {
		b.add(ir)
		if is.fillMemo && b.p.Total > mobileMemoSize {
			// A file larger than the memo: its confirmation would find only
			// its first rows there, not worth their memory beside the
			// check's own (the rows are handed over once a chunk's
			// validation is over: no worker reads fillMemo now).
			is.fillMemo = false
			s.mobiles.reset()
		}
		if progress != nil && b.p.Total%rowChunk == 0 {
			return progress(b.p.Total, read)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	if b.p.Total == 0 {
		return nil, invalid("file", "the file has a header but no rows")
	}
	if err := is.checkNumbers(b.p.Create); err != nil {
		return nil, err
	}
	return b.p, nil
}

// checkOutcome is what the check of a file left in its import row.
type checkOutcome struct {
	Preview *model.ImportPreview `json:"preview,omitempty"`
	Refusal *Error               `json:"refusal,omitempty"`
}

// Preview validates every row of a CSV file and keeps the file for
// confirmation; nothing is imported until Confirm. The preview names
// each bad cell and says which rows match existing accounts. It checks
// the file in the call; Upload has the server check it as a job.
func (s *Imports) Preview(ctx context.Context, fileName string, content []byte, opts ImportOptions, by Caller) (*model.ImportPreview, error) {
	if len(content) > MaxImportBytes {
		return nil, invalid("file", "the file is larger than %d MiB", MaxImportBytes>>20)
	}
	if !utf8.Valid(content) {
		return nil, invalid("file", "the file is not UTF-8 text; save the spreadsheet as CSV UTF-8")
	}
	preview, err := s.check(ctx, by.OrgID, bytes.NewReader(content), opts, nil)
	if err != nil {
		return nil, err
	}
	optJSON, _ := json.Marshal(opts)
	outcome, _ := json.Marshal(checkOutcome{Preview: preview})
	im := &store.Import{Operator: by.Name, FileName: fileName, Options: string(optJSON), State: model.ImportPreviewed,
		Total: preview.Total, Preview: string(outcome)}
	if err := s.store.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateImport(ctx, by.OrgID, im); err != nil {
			return err
		}
		_, err := keepFile(ctx, tx, im, bytes.NewReader(content))
		return err
	}); err != nil {
		return nil, fmt.Errorf("keeping the import file: %w", err)
	}
	preview.ID, preview.State = im.ID, im.State
	return preview, nil
}

// Upload keeps a CSV file for an import and has the server check it for
// the preview, as a job (RunJobs): it answers at once, in state checking,
// once the file's text, header and options are found right. Follow the
// check with Status (checked of size) or AwaitPreview.
func (s *Imports) Upload(ctx context.Context, fileName string, content io.Reader, opts ImportOptions, by Caller) (*model.ImportStatus, error) {
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	is := &importState{orgID: by.OrgID, st: st, groups: map[string]*store.GroupRow{}, profiles: map[string]int64{}}
	if err := s.loadGroupsAndProfiles(ctx, is); err != nil {
		return nil, err
	}
	optJSON, _ := json.Marshal(opts)
	im := &store.Import{Operator: by.Name, FileName: fileName, Options: string(optJSON), State: model.ImportChecking}
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateImport(ctx, by.OrgID, im); err != nil {
			return err
		}
		first, err := keepFile(ctx, tx, im, content)
		if err != nil {
			return err
		}
		// The header and the options are checked before the answer, the rows by the job.
		_, _, err = openRows(strings.NewReader(first), opts, is)
		return err
	})
	var de *Error
	if errors.As(err, &de) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("keeping the import file: %w", err)
	}
	s.wakeJobs()
	return importStatus(im), nil
}

// AwaitPreview waits up to wait for the check of an uploaded file and
// returns its preview, or its refusal as the error; done is false, with a
// preview in state checking, when the check is still running then.
func (s *Imports) AwaitPreview(ctx context.Context, id int64, wait time.Duration, by Caller) (p *model.ImportPreview, done bool, err error) {
	deadline := time.Now().Add(wait)
	for {
		im, _, err := s.importByID(ctx, by.OrgID, id)
		if err != nil {
			return nil, false, err
		}
		if im.State != model.ImportChecking {
			p, err := s.PreviewOf(ctx, id, by)
			return p, true, err
		}
		if time.Now().After(deadline) {
			return &model.ImportPreview{ID: id, State: im.State, Errors: []model.ImportRowError{}}, false, nil
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Imports) importByID(ctx context.Context, orgID, id int64) (*store.Import, ImportOptions, error) {
	var opts ImportOptions
	im, err := s.store.ImportByID(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, opts, notFound("import_not_found", "no import %d", id)
	}
	if err != nil {
		return nil, opts, err
	}
	if im.Options != "" {
		_ = json.Unmarshal([]byte(im.Options), &opts)
	}
	return im, opts, nil
}

func importStatus(im *store.Import) *model.ImportStatus {
	return &model.ImportStatus{ID: im.ID, Operator: im.Operator, FileName: im.FileName, State: im.State, Size: im.Size, Checked: im.Checked,
		Total: im.Total, Done: im.Done,
		Created: im.Created, ToSend: im.ToSend, Sent: im.Sent, LastError: im.LastError, CreatedAt: im.CreatedAt, UpdatedAt: im.UpdatedAt}
}

// Status reports an import's progress.
func (s *Imports) Status(ctx context.Context, id int64, by Caller) (*model.ImportStatus, error) {
	im, _, err := s.importByID(ctx, by.OrgID, id)
	if err != nil {
		return nil, err
	}
	return importStatus(im), nil
}

// PreviewOf shows a kept import's preview again.
func (s *Imports) PreviewOf(ctx context.Context, id int64, by Caller) (*model.ImportPreview, error) {
	im, opts, err := s.importByID(ctx, by.OrgID, id)
	if err != nil {
		return nil, err
	}
	if im.State == model.ImportChecking {
		return nil, conflict("import_checking", "", "import %d is still being checked (%d of %d bytes): its preview comes when that is done", id, im.Checked, im.Size)
	}
	if im.Preview != "" {
		var o checkOutcome
		if err := json.Unmarshal([]byte(im.Preview), &o); err != nil {
			return nil, fmt.Errorf("reading import %d's preview: %w", id, err)
		}
		if o.Refusal != nil {
			return nil, o.Refusal
		}
		if o.Preview != nil {
			o.Preview.ID, o.Preview.State = im.ID, im.State
			return o.Preview, nil
		}
	}
	if !hasFile(im) {
		return &model.ImportPreview{ID: im.ID, State: im.State, Total: im.Total, Create: im.Created, Errors: []model.ImportRowError{}, Send: opts.Send}, nil
	}
	rows, _, err := s.parseImport(ctx, by.OrgID, s.fileOf(ctx, im), opts)
	if err != nil {
		return nil, err
	}
	return summarise(im.ID, im.State, rows, opts), nil
}

// List lists recent imports.
func (s *Imports) List(ctx context.Context, by Caller) ([]model.ImportStatus, error) {
	ims, err := s.store.Imports(ctx, by.OrgID, 50)
	if err != nil {
		return nil, err
	}
	out := make([]model.ImportStatus, len(ims))
	for i := range ims {
		out[i] = *importStatus(&ims[i])
	}
	return out, nil
}

// Cancel drops a previewed import: nothing of it is imported.
func (s *Imports) Cancel(ctx context.Context, id int64, by Caller) (*model.ImportStatus, error) {
	im, _, err := s.importByID(ctx, by.OrgID, id)
	if err != nil {
		return nil, err
	}
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		ok, err := tx.SetImportState(ctx, id, model.ImportCancelled, model.ImportPreviewed)
		if err != nil {
			return err
		}
		if !ok {
			return conflict("import_not_previewed", "", "import %d is %s: only a previewed import can be cancelled", id, im.State)
		}
		return tx.DropImportContent(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	return s.Status(ctx, id, by)
}

// Confirm imports the valid rows of a previewed file that match no
// existing account, in transactions of importBatch rows, in the call. Bad
// rows are left out (the preview named them). An import that stopped half
// way is resumed by confirming it again, or by the server by itself (the
// import is a job, see ConfirmJob): rows already imported now match their
// accounts. progress, when not nil, is called after each batch.
func (s *Imports) Confirm(ctx context.Context, id int64, by Caller, progress func(model.ImportStatus)) (*model.ImportStatus, error) {
	im, opts, owner, claimed, err := s.startConfirm(ctx, id, by)
	if err != nil {
		return nil, err
	}
	if !claimed {
		return nil, conflict("import_running", "", "import %d is being imported already: GET its status to follow it", id)
	}
	return s.runImport(ctx, im, opts, owner, progress)
}

// ConfirmJob confirms a previewed import as Confirm does, as a job the
// server runs by itself, and waits up to wait for it: done is true with
// the import's outcome when it ended by then (its refusal as the error),
// else the status says how far it got and the job goes on without the
// caller. A negative wait answers at once. Confirming an import that is
// being imported follows it.
func (s *Imports) ConfirmJob(ctx context.Context, id int64, wait time.Duration, by Caller) (st *model.ImportStatus, done bool, err error) {
	im, opts, owner, claimed, err := s.startConfirm(ctx, id, by)
	if err != nil {
		return nil, false, err
	}
	if !claimed { // another caller, or instance, is importing it
		return s.awaitImport(ctx, id, wait, by)
	}
	started := importStatus(im) // before the job changes im
	out := make(chan error, 1)
	var result *model.ImportStatus
	go func() {
		// The job outlives the request; it ends with the server, which
		// leaves it for the next to go on with.
		r, err := s.runImport(s.jobsContext(), im, opts, owner, nil)
		result = r
		out <- err
	}()
	if wait < 0 {
		return started, false, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-out:
		return result, true, err
	case <-t.C:
	case <-ctx.Done():
	}
	st, err = s.Status(context.WithoutCancel(ctx), id, by)
	return st, false, err
}

// awaitImport waits up to wait for an import that someone else is
// importing to leave state importing.
func (s *Imports) awaitImport(ctx context.Context, id int64, wait time.Duration, by Caller) (*model.ImportStatus, bool, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := s.Status(ctx, id, by)
		if err != nil {
			return nil, false, err
		}
		if st.State == model.ImportFailed {
			return nil, true, conflict("import_failed", "", "import %d failed: %s", id, st.LastError)
		}
		if st.State != model.ImportImporting {
			return st, true, nil
		}
		if !time.Now().Before(deadline) {
			return st, false, nil
		}
		select {
		case <-ctx.Done():
			return st, false, nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startConfirm moves a previewed (or failed, or interrupted) import to
// state importing and claims it for this process; claimed is false when
// a live holder is importing it.
func (s *Imports) startConfirm(ctx context.Context, id int64, by Caller) (im *store.Import, opts ImportOptions, owner string, claimed bool, err error) {
	im, opts, err = s.importByID(ctx, by.OrgID, id)
	if err != nil {
		return nil, opts, "", false, err
	}
	if !hasFile(im) || im.State == model.ImportChecking {
		// Still being checked, or its file is gone: refused by the check, cancelled, or imported.
		return nil, opts, "", false, conflict("import_not_previewed", "", "import %d is %s: it cannot be imported", id, im.State)
	}
	owner = s.confirmOwner()
	var moved bool
	if err := s.store.Tx(ctx, func(tx *store.Tx) error {
		moved, err = tx.SetImportState(ctx, id, model.ImportImporting, model.ImportPreviewed, model.ImportImporting, model.ImportFailed)
		if err != nil || !moved {
			return err
		}
		claimed, err = tx.ClaimImport(ctx, id, owner, time.Now(), jobLease)
		return err
	}); err != nil {
		return nil, opts, "", false, err
	}
	if !moved {
		return nil, opts, "", false, conflict("import_not_previewed", "", "import %d is %s: it cannot be imported again", id, im.State)
	}
	im.State, im.LastError = model.ImportImporting, ""
	return im, opts, owner, claimed, nil
}

// confirmFailed reports whether an import's error refuses it (it is
// failed, for its operator to see, and resumed by confirming it again),
// rather than a fault or a stop that leaves it to go on by itself.
func confirmFailed(err error) bool {
	var de *Error
	return errors.As(err, &de) && !isFault(err)
}

// runImport imports a claimed import's new rows, each batch in the
// transaction that records the progress and renews owner's lease, so that
// a stop (even a SIGKILL) loses at most the batch in progress; the job is
// taken up again where it stopped. A refusal (a quota, the numbers run
// out) fails the import; anything else leaves it importing, given back,
// for the server to go on with (RunJobs).
func (s *Imports) runImport(ctx context.Context, im *store.Import, opts ImportOptions, owner string, progress func(model.ImportStatus)) (_ *model.ImportStatus, err error) {
	id := im.ID
	defer func() {
		if err == nil || errors.Is(err, errJobLost) {
			return
		}
		// Recorded even when ctx ended: that is what stopped the import,
		// and the record is what resumes it.
		wctx := context.WithoutCancel(ctx)
		_ = s.store.Tx(wctx, func(tx *store.Tx) error {
			if confirmFailed(err) {
				im.State, im.LastError = model.ImportFailed, "importing: "+err.Error()
				if err := tx.SetImportProgress(wctx, im); err != nil {
					return err
				}
			}
			return tx.ReleaseImportJob(wctx, id, owner)
		})
	}()
	by := Caller{Name: im.Operator, OrgID: im.OrgID}
	rows, is, err := s.parseImport(ctx, im.OrgID, s.fileOf(ctx, im), opts)
	if err != nil {
		return nil, err
	}
	var todo []*store.AccountRow
	for _, r := range rows {
		if len(r.errors) == 0 && !r.match.found() {
			todo = append(todo, r.row)
		}
	}
	// Usernames and virtual numbers are drawn here, against every one in
	// use, so the multi-row inserts do not collide: the organisation's
	// own here, and the usernames of the other organisations sharing its
	// username scope in each batch's transaction (redrawTaken).
	if err := is.checkNumbers(len(todo)); err != nil {
		return nil, err
	}
	scope, err := s.store.OrgUsernameScope(ctx, im.OrgID)
	if err != nil {
		return nil, err
	}
	shared := scope == model.DefaultOrgID // every organisation without a SIP domain of its own is in it
	for _, a := range todo {
		for a.Username == "" || is.users[a.Username] {
			a.Username = s.draw(is.st.UsernameDigits)
		}
		is.users[a.Username] = true
		if a.VirtualNumber == "" || is.numbers[a.VirtualNumber] {
			if a.VirtualNumber, err = is.freeNumber(); err != nil {
				return nil, err
			}
		}
		is.numbers[a.VirtualNumber] = true
	}
	detail, _ := json.Marshal(map[string]string{"import": strconv.FormatInt(id, 10)})
	im.Done = len(rows) - len(todo)
	for start := 0; start < len(todo); start += importBatch {
		batch := todo[start:min(start+importBatch, len(todo))]
		next := *im
		next.Done, next.Created = im.Done+len(batch), im.Created+len(batch)
		err := s.store.Tx(ctx, func(tx *store.Tx) error {
			if err := checkAccountQuota(ctx, &tx.Reader, is.st, len(batch)); err != nil {
				return err
			}
			if shared {
				if err := s.redrawTaken(ctx, &tx.Reader, scope, batch, is); err != nil {
					return err
				}
			}
			if err := tx.InsertAccounts(ctx, batch, by.Name, func(*store.AccountRow) string { return string(detail) }); err != nil {
				return err
			}
			ok, err := tx.SetImportBatch(ctx, &next, owner, time.Now().Add(jobLease))
			if err == nil && !ok {
				err = errJobLost // rolled back: the new holder writes this batch
			}
			return err
		})
		if errors.Is(err, errJobLost) {
			return nil, fmt.Errorf("import %d: %w", id, errJobLost)
		}
		if err != nil {
			return nil, mapStore("importing", "", err)
		}
		im.Done, im.Created = next.Done, next.Created
		if progress != nil {
			progress(*importStatus(im))
		}
	}
	im.Done = len(rows)
	im.State = model.ImportDone
	// What sending needs is kept instead of the file: the usernames of the
	// file's valid rows, in file order, each once. A row matching an
	// earlier row of the file is sent to through that row.
	var toSend []string
	if opts.Send != "" {
		im.State = model.ImportSending
		seen := map[string]bool{}
		for _, r := range rows {
			var u string
			switch {
			case len(r.errors) > 0 || r.match.line != 0:
				continue
			case r.match.username != "":
				u = r.match.username
			default:
				u = r.row.Username
			}
			if u != "" && !seen[u] {
				seen[u] = true
				toSend = append(toSend, u)
			}
		}
		im.ToSend = len(toSend)
	}
	if err := s.store.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.SetImportProgress(ctx, im); err != nil {
			return err
		}
		if err := tx.ReleaseImportJob(ctx, id, owner); err != nil {
			return err
		}
		if im.State == model.ImportDone {
			return tx.DropImportContent(ctx, id)
		}
		return tx.KeepImportSendTo(ctx, id, toSend)
	}); err != nil {
		return nil, err
	}
	s.mobiles.reset() // its numbers are of no more use
	s.log.InfoContext(ctx, "import done", "import", id, "rows", len(rows), "created", im.Created, "by", by.Name)
	if im.State == model.ImportSending {
		s.wakeJobs() // the activations are sent by the server, as a job
	}
	return importStatus(im), nil
}

// Resume asks the server to go on with a confirmed import's sending and
// reports its progress. The server sends by itself (RunJobs); this only
// wakes it, for a caller that wants the work to start now.
func (s *Imports) Resume(ctx context.Context, id int64, by Caller) (*model.ImportStatus, error) {
	im, _, err := s.importByID(ctx, by.OrgID, id)
	if err != nil {
		return nil, err
	}
	if im.State == model.ImportSending {
		s.wakeJobs()
	}
	return importStatus(im), nil
}
