package core_test

import (
	"os"
	"testing"

	"latchkey/storage"
	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
	"latchkey/storage/storetest"
)

// TestMain stops the throwaway PostgreSQL cluster after the tests, when
// they ran on it (LATCHKEY_TEST_STORE=postgres; make test runs them both ways).
func TestMain(m *testing.M) { pgtest.Main(m) }

// The flow tests run on the store LATCHKEY_TEST_STORE names.
func TestRunsOnTheChosenStore(t *testing.T) {
	e := newEnv(t)
	switch want := os.Getenv("LATCHKEY_TEST_STORE"); want {
	case "", "bolt":
		if _, ok := e.Store.(*storage.Store); !ok {
			t.Fatalf("the tests run on %T, want bbolt", e.Store)
		}
	case "postgres":
		if _, ok := e.Store.(*postgres.Store); !ok {
			t.Fatalf("the tests run on %T, want PostgreSQL", e.Store)
		}
	default:
		t.Fatalf("LATCHKEY_TEST_STORE=%s: want postgres, bolt or nothing", want)
	}
	if storetest.OnPostgres() != (os.Getenv("LATCHKEY_TEST_STORE") == "postgres") {
		t.Fatal("storetest disagrees")
	}
}
