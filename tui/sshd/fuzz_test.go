package sshd

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// FuzzCommandLine runs any command line through the SSH commands as a
// manager: it never panics, and a failure is one line.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"projects", "members website-redesign --json", "invite a@b.test --role client --portal website-redesign",
		"link show website-redesign client@acme.test", "requests grant 1 --role", "--json", "invite --role", "link show -- x y", "backup x"} {
		f.Add(s)
	}
	env := storetest.New(f)
	storetest.Must(env.Svc.LoadDemo(env.Ctx))
	srv, err := New(Config{Service: env.Svc, HostKeyPath: filepath.Join(f.TempDir(), "key"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	mia := core.UserActor(env.User("mia@northwind.test"), "fuzz")
	f.Fuzz(func(t *testing.T, line string) {
		var out, errs bytes.Buffer
		err := srv.run(context.Background(), mia, strings.Fields(line), strings.NewReader(""), &out, &errs)
		if err != nil && strings.ContainsAny(errLine(err), "\r\n") {
			t.Fatalf("%q: a multi-line error %q", line, errLine(err))
		}
	})
}
