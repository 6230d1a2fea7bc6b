package rollups

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/codeqr/codeqr/internal/tracking"
)

// Of counts the same rows as Add on each item.
func TestOfEqualsAdd(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var items []Item
	for i := range 3000 {
		in := &tracking.Interaction{Country: []string{"US", "DE", ""}[r.IntN(3)], Region: []string{"CA", ""}[r.IntN(2)],
			City: []string{"Austin", "Berlin"}[r.IntN(2)], Device: "Mobile", Browser: []string{"Chrome", "Safari"}[r.IntN(2)],
			URL: fmt.Sprintf("https://x.example/?utm_source=s%d", r.IntN(3)), QR: r.IntN(2) == 0, Referer: "(direct)"}
		it := Item{ProjectID: "p", Kind: KindClick, Resource: fmt.Sprintf("link_%d", r.IntN(4)), ResourceDim: LinkID,
			At: r.Int64N(3 * Day), Interaction: in, Counts: Counts{N: int64(r.IntN(2)), Bots: int64(r.IntN(2))}}
		if i%50 == 0 {
			it.Interaction, it.Resource, it.Kind, it.Counts = nil, "", KindSale, Counts{N: 1, Amount: 700}
		}
		items = append(items, it)
	}
	want := Batch{}
	for _, it := range items {
		want.Add(it)
	}
	got := Of(items)
	if d := Diff(want, got, 10); len(d) > 0 || len(got) != len(want) {
		t.Fatalf("Of differs from Add (%d vs %d rows): %v", len(got), len(want), d)
	}
}
