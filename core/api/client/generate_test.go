package client_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// client.gen.go is what go generate makes of the OpenAPI document as it is
// now: a change to ../openapi.json without regenerating fails here.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run oapi-codegen with")
	}
	out := filepath.Join(t.TempDir(), "client.gen.go")
	cmd := exec.Command(gobin, "tool", "oapi-codegen", "-config", "cfg.yaml", "-o", out, "../openapi.json")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatal("client.gen.go is not what ../openapi.json generates: run go generate ./core/api/client and commit client.gen.go")
	}
}
