package conversions

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed iso4217.txt
var iso4217 string

// currencies parses the embedded list once (read-only after that).
var currencies = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(iso4217, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, c := range strings.Fields(line) {
			m[strings.ToLower(c)] = true
		}
	}
	return m
})

// isCurrency reports whether c (lower case) is an active ISO 4217 code.
func isCurrency(c string) bool { return len(c) == 3 && currencies()[c] }
