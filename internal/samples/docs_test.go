package samples_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/samples"
)

// docsPath is the receiver's contract, whose example payloads this test keeps
// true: each block between <!-- example:NAME --> and <!-- /example --> is
// produced by the real sample builders (samples.All, built from the wire
// types of real events), the envelope by events.Body and the signed headers
// by delivery.Sign. A change to any of them fails this test until the doc is
// regenerated with CODEQR_UPDATE_DOCS=1 go test ./internal/samples/ -run TestWebhooksDoc.
const docsPath = "../../docs/webhooks.md"

var exampleRE = regexp.MustCompile("(?s)<!-- example:([a-z.\\-]+) -->\n.*?<!-- /example -->")

// Fixed inputs, so the examples do not change from run to run.
var (
	docNow    = time.Date(2026, 11, 26, 16, 41, 52, 346_000_000, time.UTC)
	docSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	docInput  = events.SampleInput{ProjectID: "proj_01JDQ1Z9Y8X7W6V5T4S3R2Q1PN", BaseURL: "https://go.example.com", Now: docNow,
		LinkIDs: []string{"link_01JDQ3V6ZB7W1K9H2M4N8P0RST"}, QRCodeIDs: []string{"qr_01JDQ3X2C8D4F6G1H3J5K7M9NP"},
		PageIDs: []string{"page_01JDQ3Y4E6F8G0H2J4K6M8N0PQ"}}
)

// stableIDs replaces the random ids a sample still contains (tags,
// customers, partners, click ids) by fixed ones, in order of appearance.
func stableIDs(b []byte) []byte {
	seen := map[string]string{}
	n := 0
	idRE := regexp.MustCompile(`"((?:tag|cus|pn|prog)_[0-9A-Z]{26})"`)
	b = idRE.ReplaceAllFunc(b, func(m []byte) []byte {
		id := string(m[1 : len(m)-1])
		if v, ok := seen[id]; ok {
			return []byte(`"` + v + `"`)
		}
		n++
		prefix := id[:strings.IndexByte(id, '_')]
		v := fmt.Sprintf("%s_01JDQ4%020d", prefix, n)
		seen[id] = v
		return []byte(`"` + v + `"`)
	})
	clickRE := regexp.MustCompile(`"clickId":"[0-9A-Za-z]{16}"`)
	return clickRE.ReplaceAll(b, []byte(`"clickId":"q8Zr2LmN0xVb4TsK"`))
}

func docEvent(t *testing.T, typ events.Type, n int) []byte {
	t.Helper()
	data := samples.All()[typ](docInput)
	body, err := events.Body(events.Event{ID: fmt.Sprintf("evt_KleiO4HBwZFbO1vZLWIPZ2A%02d", n), Type: typ, CreatedAt: docNow, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return stableIDs(body)
}

func indented(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// docExamples renders every example block of docs/webhooks.md.
func docExamples(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, typ := range events.AllTypes() {
		out[string(typ)] = "```json\n" + indented(t, docEvent(t, typ, i)) + "\n```"
	}
	// A signed delivery: the headers of one attempt of link.created.
	body := docEvent(t, events.LinkCreated, 0)
	h := http.Header{}
	ts := docNow.Add(2 * time.Second)
	if err := delivery.Sign(h, "evt_KleiO4HBwZFbO1vZLWIPZ2A00", ts, body, docSecret); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("```http\nPOST /hooks/codeqr HTTP/1.1\nContent-Type: application/json\n")
	for _, k := range []string{"Codeqr-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"} {
		for name, vs := range h {
			if strings.EqualFold(name, k) {
				fmt.Fprintf(&b, "%s: %s\n", name, strings.Join(vs, ", "))
			}
		}
	}
	b.WriteString("\n" + string(body) + "\n```")
	out["signed"] = b.String()
	// The same attempt during a rotation: one v1 entry per valid secret.
	h = http.Header{}
	if err := delivery.Sign(h, "evt_KleiO4HBwZFbO1vZLWIPZ2A00", ts, body, "whsec_Ym9vc3Rlci1uZXctc2VjcmV0LWZvci1yb3RhdGlvbg==", docSecret); err != nil {
		t.Fatal(err)
	}
	out["rotated"] = "```http\nwebhook-signature: " + h.Get("webhook-signature") + "\n```"
	return out
}

func TestWebhooksDocExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	want := docExamples(t)
	found := map[string]bool{}
	updated := exampleRE.ReplaceAllFunc(doc, func(block []byte) []byte {
		name := string(exampleRE.FindSubmatch(block)[1])
		found[name] = true
		ex, ok := want[name]
		if !ok {
			t.Errorf("docs/webhooks.md has an example %q that no code produces", name)
			return block
		}
		return []byte("<!-- example:" + name + " -->\n" + ex + "\n<!-- /example -->")
	})
	for name := range want {
		if !found[name] {
			t.Errorf("docs/webhooks.md lacks the example block %q", name)
		}
	}
	if bytes.Equal(updated, doc) {
		return
	}
	if os.Getenv("CODEQR_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(docsPath, updated, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("docs/webhooks.md: examples regenerated")
		return
	}
	t.Fatal("docs/webhooks.md's examples differ from what the code produces; regenerate them with CODEQR_UPDATE_DOCS=1 go test ./internal/samples/ -run TestWebhooksDocExamples")
}

// Every event type of the contract has its section, and no other type is named.
func TestWebhooksDocListsEveryType(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range events.AllTypes() {
		if !bytes.Contains(doc, []byte("### `"+string(typ)+"`")) {
			t.Errorf("docs/webhooks.md has no section for %s", typ)
		}
	}
}
