package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsUnavailable reports whether err means the database cannot be reached or
// cannot serve right now (connection refused or lost, the server shutting
// down or out of connections, SQLite busy beyond its retries or its disk
// failing), as opposed to a failure of the request itself. The API answers
// those with 503 and Retry-After instead of 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var (
		connect *pgconn.ConnectError
		pg      *pgconn.PgError
		netErr  net.Error
		lite    *sqlite.Error
	)
	switch {
	case errors.As(err, &connect), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pg):
		// Class 08: connection exception; 57P0x: the server is shutting down
		// or starting; 53300: too many connections.
		return len(pg.Code) == 5 && (pg.Code[:2] == "08" || pg.Code[:4] == "57P0" || pg.Code == "53300")
	case errors.As(err, &lite):
		switch lite.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}
