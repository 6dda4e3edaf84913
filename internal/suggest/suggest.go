// Package suggest finds the known key nearest to a misspelt one, for
// errors about unknown configuration keys and options.
package suggest

import (
	"fmt"
	"sort"
	"strings"
)

// Key is ` (did you mean "x"?)` for the known key nearest to key, or
// the list of known keys when none is near.
func Key(key string, known []string) string {
	best, dist := "", -1
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); dist < 0 || d < dist {
			best, dist = k, d
		}
	}
	if dist >= 0 && dist <= max(2, (min(len(key), len(best))+1)/2) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return "; known keys: " + strings.Join(sorted, ", ")
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
