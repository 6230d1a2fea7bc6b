package accounts

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q", h)
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "correct horse ") || CheckPassword(h, "") {
		t.Fatal("CheckPassword accepts the wrong password or refuses the right one")
	}
	h2, _ := HashPassword("correct horse")
	if h2 == h {
		t.Fatal("two hashes of one password share a salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=99999999,t=3,p=2$" + strings.Split(h, "$")[4] + "$" + strings.Split(h, "$")[5]} {
		if CheckPassword(bad, "correct horse") {
			t.Fatalf("accepted malformed hash %q", bad)
		}
	}
	// The hash spent on unknown e-mails must be a real one, or a log-in for
	// an unknown address would answer faster than for a known one.
	if _, ok := decodeHash(dummyHash); !ok {
		t.Fatal("dummyHash does not decode: unknown e-mails would answer faster")
	}
}
