package store

import "testing"

// rebind turns ordered, once-used $N into ? on SQLite and leaves every other
// query alone; the queries still run the same.
func TestSQLiteRebind(t *testing.T) {
	t.Parallel()
	d := sqliteDialect{}
	for in, want := range map[string]string{
		"SELECT $1, $2 FROM t WHERE a = $3":    "SELECT ?, ? FROM t WHERE a = ?",
		"INSERT INTO t VALUES ($1,$2),($3,$4)": "INSERT INTO t VALUES (?,?),(?,?)",
		"SELECT '$1 costs', $1":                "SELECT '$1 costs', ?",
		"SELECT 'it''s', $1":                   "SELECT 'it''s', ?",
		"SELECT $1 WHERE a = $1":               "SELECT $1 WHERE a = $1",
		"SELECT $2, $1":                        "SELECT $2, $1",
		"SELECT ? , $1":                        "SELECT ? , $1",
		"SELECT 1 -- $1":                       "SELECT 1 -- $1",
		"SELECT 1":                             "SELECT 1",
		"SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11": "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
	} {
		if got := d.rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
	if q := (postgresDialect{}).rebind("SELECT $1"); q != "SELECT $1" {
		t.Errorf("postgres rebind changed the query: %q", q)
	}
}
