package store

import (
	"slices"
	"testing"
)

// gaplessFrom is the last migration numbered before the rule "no gaps" held;
// every number after it follows the previous one.
const gaplessFrom = 13

// Both dialects embed the same migration numbers, and from 0014 on there are
// no gaps, so CheckSchema's "missing" always names a real, unapplied migration.
func TestMigrationNumbers(t *testing.T) {
	t.Parallel()
	versions := map[string][]int{}
	for _, d := range []string{"sqlite", "postgres"} {
		ms, err := readMigrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Fatalf("%s: no migrations embedded", d)
		}
		for i, m := range ms {
			if i > 0 && m.version == ms[i-1].version {
				t.Errorf("%s: two migrations numbered %04d: %s and %s", d, m.version, ms[i-1].name, m.name)
			}
			versions[d] = append(versions[d], m.version)
		}
	}
	if !slices.Equal(versions["sqlite"], versions["postgres"]) {
		t.Fatalf("sqlite and postgres migrations differ:\nsqlite   %v\npostgres %v", versions["sqlite"], versions["postgres"])
	}
	vs := versions["sqlite"]
	if !slices.Contains(vs, gaplessFrom) {
		t.Fatalf("migration %04d is missing: %v", gaplessFrom, vs)
	}
	for i := 1; i < len(vs); i++ {
		if vs[i-1] >= gaplessFrom && vs[i] != vs[i-1]+1 {
			t.Errorf("migration numbers jump from %04d to %04d; from %04d on they have no gaps", vs[i-1], vs[i], gaplessFrom+1)
		}
	}
}
