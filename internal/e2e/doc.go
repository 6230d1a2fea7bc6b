// Package e2e holds the end-to-end tests of codeqr: they build the real binary,
// run `codeqr serve` as a child process on SQLite and on PostgreSQL, drive it
// only through its public interfaces (the CLI, the REST API, webhook deliveries
// to a real HTTP receiver) and kill it to prove that no event is ever lost.
//
// Everything lives in _test.go files; this file only names the package.
package e2e
