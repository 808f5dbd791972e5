package storage

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

func FuzzKeyFile(f *testing.F) {
	f.Add([]byte(keyFileHeader + "lookup-key: " + strings.Repeat("A", 43) + "=\ndata-key: " + strings.Repeat("B", 43) + "=\n"))
	f.Add([]byte("lookup-key: nope\n"))
	f.Add([]byte(""))
	f.Add([]byte("# only a comment\n::\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseKeyFile(b)
		if err == nil && keys == nil {
			t.Fatal("no keys and no error")
		}
	})
}

// FuzzDecodeLink: any bytes decode to an error (never a panic) or to a link
// whose stored form reads back as the same link.
func FuzzDecodeLink(f *testing.F) {
	l := core.Link{ID: 1, Email: "a@b.test", Lookup: []byte{1}, Sealed: []byte{2}, CreatedAt: time.Unix(1e9, 0).UTC()}
	f.Add(EncodeLink(&l))
	f.Add([]byte(`{"id":3,"email":"x@y.test"}`))
	f.Add([]byte{linkFormat, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLink(b)
		if err != nil {
			return
		}
		enc := EncodeLink(&l)
		l2, err := DecodeLink(enc)
		if err != nil {
			t.Fatalf("%x decoded, but its encoding %x does not: %v", b, enc, err)
		}
		if again := EncodeLink(&l2); !bytes.Equal(again, enc) {
			t.Fatalf("%x encoded as %x, then as %x", b, enc, again)
		}
	})
}
