package storage

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"latchkey/core"
)

const keyFileHeader = "# latchkey instance keys. Keep this file secret (mode 0600) and back it up with the database:\n# without it no magic link can be resolved. It is never stored inside the database.\n"

// LoadOrCreateKeys reads the key file at path, or creates it (mode 0600)
// with fresh random keys when it does not exist; created reports which. A
// key file that others may read is refused. A key file written before
// latchkey signed assertions gets its signing key added (the file is
// rewritten atomically; the other keys stay).
func LoadOrCreateKeys(path string) (keys *core.Keys, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		keys, err := createKeyFile(path)
		return keys, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("the key file %s may be read by others (mode %04o); run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	vals, err := parseKeyFile(data)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	if vals["signing-key"] == nil {
		if vals["signing-key"], err = randomKey(); err != nil {
			return nil, false, err
		}
		if err := writeFileAtomic(path, keyFileContent(vals), 0o600, false); err != nil {
			return nil, false, fmt.Errorf("add the signing key to the key file: %w", err)
		}
	}
	keys, err = core.NewKeys(vals["lookup-key"], vals["data-key"], vals["signing-key"])
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	return keys, false, nil
}

// keyNames are the key file's entries, in the order it lists them.
var keyNames = []string{"lookup-key", "data-key", "signing-key"}

func parseKeyFile(data []byte) (map[string][]byte, error) {
	vals := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, errors.New("malformed line (want name: base64)")
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%s is not base64", strings.TrimSpace(name))
		}
		vals[strings.TrimSpace(name)] = b
	}
	for _, name := range keyNames {
		if v, ok := vals[name]; ok && len(v) != core.KeySize || !ok && name != "signing-key" {
			return nil, fmt.Errorf("want a %d-byte lookup-key, data-key and signing-key", core.KeySize)
		}
	}
	return vals, nil
}

func randomKey() ([]byte, error) {
	k := make([]byte, core.KeySize)
	_, err := rand.Read(k)
	return k, err
}

func keyFileContent(vals map[string][]byte) []byte {
	content := keyFileHeader
	for _, name := range keyNames {
		content += name + ": " + base64.StdEncoding.EncodeToString(vals[name]) + "\n"
	}
	return []byte(content)
}

func createKeyFile(path string) (*core.Keys, error) {
	vals := map[string][]byte{}
	for _, name := range keyNames {
		k, err := randomKey()
		if err != nil {
			return nil, err
		}
		vals[name] = k
	}
	if err := writeFileAtomic(path, keyFileContent(vals), 0o600, true); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return core.NewKeys(vals["lookup-key"], vals["data-key"], vals["signing-key"])
}

// writeFileAtomic writes data to path through writeAtomic.
func writeFileAtomic(path string, data []byte, perm os.FileMode, exclusive bool) error {
	return writeAtomic(path, perm, exclusive, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic lets write fill a temporary file beside path, syncs it and
// moves it into place, then syncs the directory: path holds either its old
// content or all of the new. With exclusive set it fails when path exists.
func writeAtomic(path string, perm os.FileMode, exclusive bool, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(perm)
	if err == nil {
		err = write(tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if exclusive {
		// Link fails if path exists, so two processes never both create it.
		err = os.Link(tmp.Name(), path)
	} else {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
