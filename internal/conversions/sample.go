package conversions

import (
	"encoding/json"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/tracking"
)

func sampleCustomer(in events.SampleInput) Customer {
	return Customer{
		ID: ids.New("cus"), ExternalID: "user_48213", Name: ref("Jane Doe"), Email: ref("jane@example.com"),
		Avatar: nil, Country: ref("US"), CreatedAt: in.Now,
	}
}

// SampleLead is the data of a realistic lead.created, for test events: a
// sign-up five minutes after a click on the sample link.
func SampleLead(in events.SampleInput) LeadEventData {
	l := links.Sample(in)
	it := tracking.SampleInteraction(in.Now.Add(-5*time.Minute), false, l.URL)
	return LeadEventData{EventName: "Sign up", Customer: sampleCustomer(in), Interaction: &it, Link: l,
		Metadata: json.RawMessage(`{"plan":"trial"}`)}
}

// SampleSale is the data of a realistic sale.created, for test events: a
// purchase an hour after a click on the sample link.
func SampleSale(in events.SampleInput) SaleEventData {
	l := links.Sample(in)
	it := tracking.SampleInteraction(in.Now.Add(-time.Hour), false, l.URL)
	return SaleEventData{EventName: "Purchase", Customer: sampleCustomer(in), Interaction: &it, Link: l,
		Sale:     SaleObject{Amount: 4900, Currency: "usd", PaymentProcessor: "stripe", InvoiceID: ref("in_1QxSample")},
		Metadata: json.RawMessage(`{"order":"A-1042"}`)}
}

// ref returns a pointer to v: the optional fields of a sample.
func ref[T any](v T) *T { return &v }
