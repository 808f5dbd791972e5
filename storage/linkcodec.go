package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"latchkey/core"
)

// Links are read on every landing page and redemption, and a million of them
// fill the largest bucket, so they are stored in a compact binary form rather
// than as JSON: decoding one costs a tenth as much and a record takes half
// the space. The first byte names the form; records written before it
// existed are JSON objects (they begin with '{') and are still read, as
// are those of form 1, which had no flags.
const (
	linkFormat1 = 1
	linkFormat  = 2 // form 1 and a uvarint of flags, for a link with any (else form 1)
)

// Flags of a link record.
const linkInvited = 1 << 0

// EncodeLink is the stored form of a link.
func EncodeLink(l *core.Link) []byte {
	b := make([]byte, 0, 96+len(l.Email)+len(l.Lookup)+len(l.Sealed)+len(l.CreatedBy)+len(l.EndedBy))
	var flags uint64
	if l.Invited {
		flags |= linkInvited
	}
	form := byte(linkFormat)
	if flags == 0 {
		form = linkFormat1 // what it needs: the record stays as it was written
	}
	b = append(b, form)
	b = binary.AppendUvarint(b, l.ID)
	b = binary.AppendUvarint(b, l.OrgID)
	b = binary.AppendUvarint(b, l.PortalID)
	b = appendBytes(b, []byte(l.Email))
	b = appendBytes(b, []byte(l.Role))
	b = appendTime(b, l.GuestUntil)
	b = appendBytes(b, []byte(l.State))
	b = appendBytes(b, l.Lookup)
	b = appendBytes(b, l.Sealed)
	b = appendTime(b, l.CreatedAt)
	b = appendBytes(b, []byte(l.CreatedBy))
	b = appendTime(b, l.EndedAt)
	b = appendBytes(b, []byte(l.EndedBy))
	b = binary.AppendUvarint(b, l.ReplacedBy)
	b = binary.AppendUvarint(b, l.UseCount)
	b = appendTime(b, l.LastUsedAt)
	if form == linkFormat1 {
		return b
	}
	return binary.AppendUvarint(b, flags)
}

// DecodeLink reads a stored link in either form. The result shares no
// memory with raw, which may belong to the database's map.
func DecodeLink(raw []byte) (core.Link, error) {
	var l core.Link
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, recordOf(&l)); err != nil {
			return core.Link{}, fmt.Errorf("decode link: %w", err)
		}
		return l, nil
	}
	if len(raw) == 0 || raw[0] != linkFormat && raw[0] != linkFormat1 {
		return core.Link{}, errors.New("decode link: unknown record form")
	}
	r := linkReader{buf: append([]byte(nil), raw[1:]...)}
	l.ID, l.OrgID, l.PortalID = r.uvarint(), r.uvarint(), r.uvarint()
	l.Email = string(r.bytes())
	l.Role = core.Role(r.bytes())
	l.GuestUntil = r.time()
	l.State = core.LinkState(r.bytes())
	l.Lookup, l.Sealed = r.bytes(), r.bytes()
	l.CreatedAt = r.time()
	l.CreatedBy = string(r.bytes())
	l.EndedAt = r.time()
	l.EndedBy = string(r.bytes())
	l.ReplacedBy, l.UseCount = r.uvarint(), r.uvarint()
	l.LastUsedAt = r.time()
	if raw[0] == linkFormat {
		flags := r.uvarint()
		l.Invited = flags&linkInvited != 0
	}
	if r.err == nil && len(r.buf) > 0 {
		r.err = errors.New("trailing bytes")
	}
	if r.err != nil {
		return core.Link{}, fmt.Errorf("decode link: %w", r.err)
	}
	return l, nil
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// appendTime writes the zero time as an empty field, any other in the
// time package's own binary form (which keeps the zone offset).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	enc, err := t.MarshalBinary()
	if err != nil { // only for zone offsets that are not whole minutes
		enc, _ = t.UTC().MarshalBinary()
	}
	return appendBytes(b, enc)
}

// linkReader takes fields off the front of buf; the first error sticks and
// every later field reads as empty.
type linkReader struct {
	buf []byte
	err error
}

func (r *linkReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.err = errors.New("bad number")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// bytes returns a field or nil when it is empty; it aliases r.buf, which
// DecodeLink copied from the database.
func (r *linkReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.buf)) {
		r.err = errors.New("field longer than the record")
		return nil
	}
	v := r.buf[:n:n]
	r.buf = r.buf[n:]
	if n == 0 {
		return nil
	}
	return v
}

func (r *linkReader) time() time.Time {
	enc := r.bytes()
	if r.err != nil || enc == nil {
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalBinary(enc); err != nil {
		r.err = fmt.Errorf("bad time: %w", err)
	}
	return t
}
