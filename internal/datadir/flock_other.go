//go:build !unix

package datadir

import (
	"errors"
	"os"
)

// errWouldBlock is never returned where there is no flock: there the data
// directory is not guarded (documented in the README).
var errWouldBlock = errors.New("would block")

func lockFile(*os.File) error   { return nil }
func unlockFile(*os.File) error { return nil }
