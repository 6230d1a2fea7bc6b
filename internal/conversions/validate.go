package conversions

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
)

// Limits of POST /api/track/lead and /api/track/sale; a longer or larger
// field is refused with a 422 naming it.
const (
	MaxEventName    = 255
	MaxExternalID   = 100
	MaxName         = 255
	MaxEmail        = 254
	MaxAvatar       = 2048
	MaxInvoiceID    = 255
	MaxMetadata     = 10_000 // bytes of the compact JSON serialisation
	MaxQuantity     = 100
	MaxAmount       = 1_000_000_000_000_000 // 10^15 smallest units per sale: sums stay far from int64 overflow
	DefaultSaleName = "Purchase"
	// DefaultLeadName names the lead created together with a first sale.
	DefaultLeadName = "Sign up"
)

// PaymentProcessors are the accepted paymentProcessor values.
var PaymentProcessors = []string{"stripe", "shopify", "paddle", "polar", "lemonsqueezy", "custom"}

// LeadRequest is the body of POST /api/track/lead.
type LeadRequest struct {
	ClickID            *string         `json:"clickId"`
	EventName          string          `json:"eventName"`
	CustomerExternalID string          `json:"customerExternalId"`
	CustomerName       *string         `json:"customerName"`
	CustomerEmail      *string         `json:"customerEmail"`
	CustomerAvatar     *string         `json:"customerAvatar"`
	EventQuantity      *int64          `json:"eventQuantity"`
	Metadata           json.RawMessage `json:"metadata"`
}

// SaleRequest is the body of POST /api/track/sale. Amount is kept raw so that
// a fraction or a string gets a precise message instead of a decoder error.
// Currency defaults to "usd", PaymentProcessor to "custom", EventName to
// "Purchase"; ClickID (and LeadEventName, default "Sign up") matter only for a
// customer without a lead, who then gets one with this sale. The customer*
// fields fill a customer created by this sale.
type SaleRequest struct {
	CustomerExternalID string          `json:"customerExternalId"`
	Amount             json.RawMessage `json:"amount"`
	Currency           *string         `json:"currency"`
	PaymentProcessor   *string         `json:"paymentProcessor"`
	EventName          *string         `json:"eventName"`
	InvoiceID          *string         `json:"invoiceId"`
	Metadata           json.RawMessage `json:"metadata"`
	ClickID            *string         `json:"clickId"`
	LeadEventName      *string         `json:"leadEventName"`
	CustomerName       *string         `json:"customerName"`
	CustomerEmail      *string         `json:"customerEmail"`
	CustomerAvatar     *string         `json:"customerAvatar"`
}

// customerFields are the optional customer details of a request, validated.
type customerFields struct {
	externalID          string
	name, email, avatar *string
}

// lead is a validated LeadRequest.
type lead struct {
	customerFields
	clickID   string
	eventName string
	quantity  int64
	metadata  json.RawMessage
}

// sale is a validated SaleRequest.
type sale struct {
	customerFields
	clickID          string
	eventName        string
	leadEventName    string
	amount           int64
	currency         string
	paymentProcessor string
	invoiceID        *string
	metadata         json.RawMessage
}

func (r LeadRequest) validate() (lead, error) {
	cf, err := validateCustomer(r.CustomerExternalID, r.CustomerName, r.CustomerEmail, r.CustomerAvatar)
	if err != nil {
		return lead{}, err
	}
	l := lead{customerFields: cf, quantity: 1}
	if l.eventName, err = validateName("eventName", &r.EventName, ""); err != nil {
		return lead{}, err
	}
	if l.clickID, err = validateClickID(r.ClickID); err != nil {
		return lead{}, err
	}
	if r.EventQuantity != nil {
		if *r.EventQuantity < 1 || *r.EventQuantity > MaxQuantity {
			return lead{}, errs.Invalid("eventQuantity must be from 1 to %d, not %d", MaxQuantity, *r.EventQuantity)
		}
		l.quantity = *r.EventQuantity
	}
	if l.metadata, err = validateMetadata(r.Metadata); err != nil {
		return lead{}, err
	}
	return l, nil
}

func (r SaleRequest) validate() (sale, error) {
	cf, err := validateCustomer(r.CustomerExternalID, r.CustomerName, r.CustomerEmail, r.CustomerAvatar)
	if err != nil {
		return sale{}, err
	}
	s := sale{customerFields: cf, currency: "usd", paymentProcessor: "custom"}
	if s.amount, err = validateAmount(r.Amount); err != nil {
		return sale{}, err
	}
	if r.Currency != nil {
		c := strings.ToLower(strings.TrimSpace(*r.Currency))
		if !isCurrency(c) {
			return sale{}, errs.Invalid("currency %q is not an active ISO 4217 code (e.g. usd, eur, jpy)", truncate(*r.Currency))
		}
		s.currency = c
	}
	if r.PaymentProcessor != nil {
		p := strings.ToLower(strings.TrimSpace(*r.PaymentProcessor))
		if !slices.Contains(PaymentProcessors, p) {
			return sale{}, errs.Invalid("paymentProcessor must be one of %s, not %q", strings.Join(PaymentProcessors, ", "), truncate(*r.PaymentProcessor))
		}
		s.paymentProcessor = p
	}
	if s.eventName, err = validateName("eventName", r.EventName, DefaultSaleName); err != nil {
		return sale{}, err
	}
	if s.leadEventName, err = validateName("leadEventName", r.LeadEventName, DefaultLeadName); err != nil {
		return sale{}, err
	}
	if r.InvoiceID != nil {
		v := strings.TrimSpace(*r.InvoiceID)
		switch {
		case v == "":
			return sale{}, errs.Invalid("invoiceId must not be empty (leave it out instead)")
		case utf8.RuneCountInString(v) > MaxInvoiceID:
			return sale{}, errs.Invalid("invoiceId must be at most %d characters", MaxInvoiceID)
		}
		s.invoiceID = &v
	}
	if s.clickID, err = validateClickID(r.ClickID); err != nil {
		return sale{}, err
	}
	if s.metadata, err = validateMetadata(r.Metadata); err != nil {
		return sale{}, err
	}
	return s, nil
}

func validateCustomer(externalID string, name, email, avatar *string) (customerFields, error) {
	cf := customerFields{externalID: strings.TrimSpace(externalID)}
	switch {
	case cf.externalID == "":
		return cf, errs.Invalid("customerExternalId is required: your system's id of the customer")
	case utf8.RuneCountInString(cf.externalID) > MaxExternalID:
		return cf, errs.Invalid("customerExternalId must be at most %d characters", MaxExternalID)
	}
	if name != nil {
		v := strings.TrimSpace(*name)
		if utf8.RuneCountInString(v) > MaxName {
			return cf, errs.Invalid("customerName must be at most %d characters", MaxName)
		}
		if v != "" {
			cf.name = &v
		}
	}
	if email != nil {
		v := strings.TrimSpace(*email)
		if len(v) > MaxEmail {
			return cf, errs.Invalid("customerEmail must be at most %d characters", MaxEmail)
		}
		if v != "" {
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
				return cf, errs.Invalid("customerEmail %q is not an e-mail address", truncate(v))
			}
			cf.email = &v
		}
	}
	if avatar != nil {
		v := strings.TrimSpace(*avatar)
		if len(v) > MaxAvatar {
			return cf, errs.Invalid("customerAvatar must be at most %d characters", MaxAvatar)
		}
		if v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return cf, errs.Invalid("customerAvatar must be an http(s) URL")
			}
			cf.avatar = &v
		}
	}
	return cf, nil
}

// validateName checks a required name (def == "") or an optional one.
func validateName(field string, v *string, def string) (string, error) {
	if v == nil {
		v = &def
	}
	s := strings.TrimSpace(*v)
	switch {
	case s == "":
		return "", errs.Invalid("%s is required", field)
	case utf8.RuneCountInString(s) > MaxEventName:
		return "", errs.Invalid("%s must be at most %d characters", field, MaxEventName)
	}
	return s, nil
}

func validateClickID(v *string) (string, error) {
	if v == nil || *v == "" {
		return "", nil
	}
	if len(*v) != 16 || !ids.IsBase62(*v) {
		return "", errs.Invalid("clickId %q is malformed: it is the 16-character cq_id of a click, scan or view", truncate(*v))
	}
	return *v, nil
}

var wholeNumber = regexp.MustCompile(`^-?[0-9]+$`)

func validateAmount(raw json.RawMessage) (int64, error) {
	v := string(bytes.TrimSpace(raw))
	if v == "" || v == "null" {
		return 0, errs.Invalid("amount is required: an integer in the smallest currency unit (e.g. cents)")
	}
	if !wholeNumber.MatchString(v) {
		return 0, errs.Invalid("amount must be an integer in the smallest currency unit (e.g. 1999 for 19.99), not %s", truncate(v))
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > MaxAmount {
		return 0, errs.Invalid("amount must be at most %d", int64(MaxAmount))
	}
	if n < 0 {
		return 0, errs.Invalid("amount must not be negative (got %d)", n)
	}
	return n, nil
}

// validateMetadata accepts a JSON object (or null/absent) of at most
// MaxMetadata bytes once compacted, and returns it compacted (nil for none).
func validateMetadata(raw json.RawMessage) (json.RawMessage, error) {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	if v[0] != '{' {
		return nil, errs.Invalid("metadata must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return nil, errs.BadInput("metadata is not valid JSON: %v", err)
	}
	if buf.Len() > MaxMetadata {
		return nil, errs.Invalid("metadata is %d bytes when serialised; the limit is %d", buf.Len(), MaxMetadata)
	}
	return buf.Bytes(), nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
