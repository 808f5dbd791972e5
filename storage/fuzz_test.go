package storage

import (
	"strings"
	"testing"
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
