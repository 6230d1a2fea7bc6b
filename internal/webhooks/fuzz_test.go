package webhooks_test

import (
	"errors"
	"testing"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// FuzzWebhookCreateRequest feeds arbitrary bodies through the API's decoder and
// the webhook validation: nothing may panic, and every refusal must be a
// client error (400/413 from decoding, 422 from validation).
func FuzzWebhookCreateRequest(f *testing.F) {
	for _, s := range []string{
		`{"name":"n","url":"https://93.184.215.14/h","triggers":["link.created"]}`,
		`{"name":"n","url":"https://93.184.215.14/h","triggers":["link.clicked"],"linkIds":["link_1"],"includeBots":true}`,
		`{"name":"","url":"javascript:alert(1)","triggers":["x","x"],"qrcodeIds":[""],"pageIds":null}`,
		`{"name":"n","triggers":["page.visited"],"pageIds":["a","a"]}`,
		`{"name": null, "url": 5}`, `[]`, `null`, `{"a":1}`, `{`, ``, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req webhooks.CreateRequest
		if err := api.DecodeJSONBytes(data, &req); err != nil {
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
				t.Fatalf("decode error %v is not a 4xx API error", err)
			}
		} else if err := webhooks.ValidateShape(req); err != nil && errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("validation error %v is not Invalid", err)
		}
		var upd webhooks.UpdateRequest
		if err := api.DecodeJSONBytes(data, &upd); err != nil {
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
				t.Fatalf("update decode error %v is not a 4xx API error", err)
			}
		}
	})
}
