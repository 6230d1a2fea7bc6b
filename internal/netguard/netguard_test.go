package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "0.0.0.0", "192.168.1.1", "172.16.5.4", "100.64.0.1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "224.0.0.1"} {
		if Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s should be blocked", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"} {
		if !Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s should be allowed", s)
		}
	}
}

// The ranges listed for the reader outside 2000::/3 need no rule of their own:
// they lie outside global6, so their addresses are refused.
func TestBlockedOutside6AreOutsideGlobal6(t *testing.T) {
	t.Parallel()
	for _, p := range blockedOutside6 {
		if global6.Overlaps(p) {
			t.Errorf("%s overlaps %s: it needs a rule in blocked6", p, global6)
		}
		if Allowed(p.Addr()) {
			t.Errorf("%s (in %s) should be blocked", p.Addr(), p)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bad := []string{"http://example.com", "ftp://example.com", "https://127.0.0.1/x", "https://[::1]/", "https://localhost/", "https://10.0.0.1/", "https://169.254.169.254/latest", "https://0.0.0.0/", "javascript:alert(1)", "https://u:p@example.com/"}
	for _, u := range bad {
		if err := CheckURL(ctx, u, Options{}); !errors.Is(err, ErrBlocked) {
			t.Errorf("%s: want ErrBlocked, got %v", u, err)
		}
	}
	if err := CheckURL(ctx, "https://93.184.216.34/hook", Options{}); err != nil {
		t.Errorf("public address refused: %v", err)
	}
	if err := CheckURL(ctx, "http://127.0.0.1:9/x", Options{AllowHTTP: true, AllowPrivate: true}); err != nil {
		t.Errorf("allowed private refused: %v", err)
	}
}

// The dialer refuses loopback at connect time, even when the URL looked fine.
func TestClientRefusesLoopbackAtConnect(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err := Client(Options{AllowHTTP: true}, 2*time.Second).Get(srv.URL)
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("want ErrBlocked at dial, got %v", err)
	}
	resp, err := Client(Options{AllowHTTP: true, AllowPrivate: true}, 2*time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed private: %v", err)
	}
	resp.Body.Close()
}

// A host name that resolves to loopback is refused both at save and at connect.
func TestHostnameResolvingToLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// A resolver whose DNS server answers every name with 127.0.0.1.
	dns := startFakeDNS(t, netip.MustParseAddr("127.0.0.1"))
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dns)
	}}
	opts := Options{AllowHTTP: true, Resolver: res}
	if err := CheckURL(context.Background(), "http://rebind.example:"+port+"/", opts); !errors.Is(err, ErrBlocked) {
		t.Fatalf("save-time check: want ErrBlocked, got %v", err)
	}
	if _, err := Client(opts, 2*time.Second).Get("http://rebind.example:" + port + "/"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("connect-time check: want ErrBlocked, got %v", err)
	}
}

// Redirects are not followed: the 3xx comes back as the response.
func TestNoRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
	}))
	defer srv.Close()
	resp, err := Client(Options{AllowHTTP: true, AllowPrivate: true}, 2*time.Second).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("want the 302 itself, got %d", resp.StatusCode)
	}
}

// startFakeDNS answers every A query with addr (and AAAA with no answers).
func startFakeDNS(t *testing.T, addr netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			q := buf[:n]
			// Find the end of the question name.
			i := 12
			for i < n && q[i] != 0 {
				i += int(q[i]) + 1
			}
			if i+5 > n {
				continue
			}
			qtype := int(q[i+1])<<8 | int(q[i+2])
			question := q[12 : i+5]
			resp := make([]byte, 0, 64+len(question))
			resp = append(resp, q[0], q[1], 0x81, 0x80, 0, 1)
			if qtype == 1 {
				resp = append(resp, 0, 1, 0, 0, 0, 0)
			} else {
				resp = append(resp, 0, 0, 0, 0, 0, 0)
			}
			resp = append(resp, question...)
			if qtype == 1 {
				a := addr.As4()
				resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, a[0], a[1], a[2], a[3])
			}
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	return pc.LocalAddr().String()
}
