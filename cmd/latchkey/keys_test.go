package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// Given the private key file where its .pub belongs, `keys add` and
// --admin-keys say so and name the file to give, before touching the data
// directory, and print nothing of the key.
func TestAPrivateKeyFileIsRefusedWithAPointerToThePublicKey(t *testing.T) {
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "olivia@laptop")
	if err != nil {
		t.Fatal(err)
	}
	private := pem.EncodeToMemory(block)
	keyPath := filepath.Join(dir, "id_ed25519")
	os.WriteFile(keyPath, private, 0o600)
	pub, _ := gossh.NewPublicKey(priv.Public())
	os.WriteFile(keyPath+".pub", gossh.MarshalAuthorizedKey(pub), 0o644)
	data := filepath.Join(dir, "data")
	secret := strings.Split(string(private), "\n")[1]

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"keys add FILE", "", []string{"keys", "add", "owner@northwind.test", keyPath}, 1,
			keyPath + " is a private key; give the public key, " + keyPath + ".pub\n"},
		{"keys add -", string(private), []string{"keys", "add", "owner@northwind.test", "-"}, 1,
			"standard input holds a private key; give the public key instead"},
		{"--admin-keys FILE", "", []string{"serve", "--admin-keys", keyPath}, 2,
			"--admin-keys: " + keyPath + " is a private key; give the public key, " + keyPath + ".pub\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.stdin, append(tc.args, "--data", data)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "one key per line") {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
			if strings.Contains(r.stderr+r.stdout, secret) {
				t.Fatal("the private key was printed")
			}
			if _, err := os.Stat(data); err == nil {
				t.Fatal("the data directory was created for a command that could not run")
			}
		})
	}
	// Without the .pub beside it, the message says how to make it.
	os.Remove(keyPath + ".pub")
	if r := runCmd(t, nil, "", "keys", "add", "owner@northwind.test", keyPath, "--data", data); !strings.Contains(r.stderr, "ssh-keygen -y -f "+keyPath+" > "+keyPath+".pub") {
		t.Fatalf("no .pub: %q", r.stderr)
	}
}
