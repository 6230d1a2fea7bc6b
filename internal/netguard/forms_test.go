package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Every form here must be refused when a webhook or logo URL is saved.
var refusedURLs = []string{
	// zone identifiers, on every kind of non-global address
	"http://[::1%25lo]:8080/",
	"http://[fe80::1%25eth0]/",
	"http://[fd00:ec2::254%25eth0]/",
	"http://[ff02::1%25eth0]/",
	"http://[64:ff9b::a9fe:a9fe%25eth0]/",
	"http://[::ffff:127.0.0.1%25lo]/",
	"http://[2606:4700:4700::1111%25eth0]/",
	// loopback, private, link-local, metadata
	"http://127.0.0.1/", "http://127.255.255.254/", "http://[::1]/", "http://localhost/", "http://a.localhost/",
	"http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.0.1/", "http://169.254.169.254/latest",
	"http://100.64.0.1/", "http://0.0.0.0/", "http://[::]/", "http://[fd00:ec2::254]/",
	// IPv4 written other ways
	"http://[::127.0.0.1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
	"http://2130706433/", "http://0x7f000001/", "http://0x7f.0.0.1/", "http://017700000001/", "http://127.1/",
	"http://0177.0.0.1/",
	"http://１２７。０。０。１/", "http://127。0。0。1/", "http://①②⑦.⓪.⓪.①/",
	// IANA special-purpose ranges
	"http://192.0.0.8/", "http://192.0.2.1/", "http://198.51.100.7/", "http://203.0.113.9/",
	"http://198.18.0.1/", "http://192.88.99.1/", "http://224.0.0.1/", "http://239.1.1.1/", "http://240.0.0.1/",
	"http://255.255.255.255/",
	"http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b:1::1]/", "http://[2002:7f00:1::]/", "http://[2001::1]/",
	"http://[2001:db8::1]/", "http://[3fff::1]/", "http://[fec0::1]/", "http://[fe80::1]/", "http://[fc00::1]/",
	"http://[ff02::1]/", "http://[100::1]/", "http://[::7f00:1]/",
	// ports
	"http://example.com:0/", "http://example.com:65536/", "http://example.com:99999/", "http://example.com:/",
	"http://example.com:-1/",
	// scheme, credentials
	"ftp://example.com/", "javascript:alert(1)", "file:///etc/passwd", "http://u:p@example.com/", "http://u@example.com/",
}

func TestCheckURLRefusesEveryForm(t *testing.T) {
	t.Parallel()
	for _, u := range refusedURLs {
		if err := CheckURL(context.Background(), u, Options{AllowHTTP: true}); !errors.Is(err, ErrBlocked) {
			t.Errorf("%s: want ErrBlocked, got %v", u, err)
		}
	}
	t.Logf("%d forms refused", len(refusedURLs))
}

func TestCheckURLAcceptsPublic(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"https://93.184.216.34/hook", "https://[2606:4700:4700::1111]/", "https://8.8.8.8:443/x",
		"https://example.com:8443/a?b=c", "https://bücher.example/",
	} {
		if err := CheckURL(context.Background(), u, Options{AllowHTTP: true, Resolver: nxResolver(t)}); err != nil {
			t.Errorf("%s: refused: %v", u, err)
		}
	}
}

// With private destinations allowed, the host form is still judged: a zone or
// an ambiguous IPv4 spelling is refused either way.
func TestCheckURLAllowPrivateStillParses(t *testing.T) {
	t.Parallel()
	opts := Options{AllowHTTP: true, AllowPrivate: true}
	if err := CheckURL(context.Background(), "http://127.0.0.1:9/x", opts); err != nil {
		t.Fatalf("loopback with AllowPrivate: %v", err)
	}
	for _, u := range []string{"http://[::1%25lo]:9/", "http://0x7f000001/", "http://example.com:0/"} {
		if err := CheckURL(context.Background(), u, opts); !errors.Is(err, ErrBlocked) {
			t.Errorf("%s: want ErrBlocked, got %v", u, err)
		}
	}
}

// The dial-time check refuses a zoned loopback address: a real listener on
// [::1] is never reached through [::1%lo].
func TestDialRefusesZonedLoopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	reached := make(chan struct{}, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached <- struct{}{} })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ifname := loopbackName(t)
	for _, zone := range []string{ifname, "1", "eth0"} {
		u := "http://[::1%25" + zone + "]:" + port + "/"
		_, err := Client(Options{AllowHTTP: true}, 2*time.Second).Get(u)
		if !errors.Is(err, ErrBlocked) {
			t.Errorf("%s: want ErrBlocked at dial, got %v", u, err)
		}
	}
	select {
	case <-reached:
		t.Fatal("the loopback listener was reached")
	default:
	}
}

func loopbackName(t *testing.T) string {
	ifs, err := net.Interfaces()
	if err == nil {
		for _, i := range ifs {
			if i.Flags&net.FlagLoopback != 0 {
				return i.Name
			}
		}
	}
	return "lo"
}

// nxResolver answers nothing, so public names are not looked up in tests.
func nxResolver(t *testing.T) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
}

// isGlobal is the test's own oracle, written from the standard library's
// classifications rather than from the guard's tables.
func isGlobal(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 0, b[0] == 100 && b[1]&0xc0 == 64, b[0] >= 240, b[0] == 192 && b[1] == 0 && b[2] == 0,
			b[0] == 198 && b[1]&0xfe == 18:
			return false
		}
		return true
	}
	b := a.As16()
	return b[0]&0xe0 == 0x20 // 2000::/3
}

// FuzzAllowed: whatever address the dialer is handed, the guard lets through
// only addresses the independent oracle calls global.
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"127.0.0.1:80", "[::1%lo]:80", "[fe80::1%eth0]:443", "[::ffff:10.0.0.1]:1", "8.8.8.8:53", "[2606:4700::1]:443", "[64:ff9b::a9fe:a9fe%x]:80"} {
		f.Add(s)
	}
	d := Dialer(Options{}, time.Second)
	f.Fuzz(func(t *testing.T, address string) {
		err := d.Control("tcp", address, nil)
		if err != nil {
			return
		}
		ap, perr := netip.ParseAddrPort(address)
		if perr != nil {
			t.Fatalf("Control accepted unparsable %q", address)
		}
		if !isGlobal(ap.Addr()) {
			t.Fatalf("Control accepted non-global %q", address)
		}
	})
}

// FuzzCheckURL: whatever URL is saved, if the guard accepts it then the
// address the HTTP client would dial for its host is global, and a real dial
// through the guarded client never connects to a non-global address.
func FuzzCheckURL(f *testing.F) {
	for _, s := range refusedURLs {
		f.Add(s)
	}
	f.Add("https://93.184.216.34/x")
	f.Add("http://[2606:4700:4700::1111]:8080/")
	var dialed []string
	opts := Options{AllowHTTP: true, Resolver: nxResolver(nil)}
	tr := Transport(opts, 200*time.Millisecond)
	guarded := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := guarded(ctx, network, addr)
		if err == nil {
			dialed = append(dialed, addr)
			c.Close()
			return nil, errors.New("test: connected, dropped")
		}
		return nil, err
	}
	client := &http.Client{Transport: tr, Timeout: 300 * time.Millisecond}
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckURL(context.Background(), raw, opts) != nil {
			return
		}
		req, err := http.NewRequest(http.MethodGet, raw, nil)
		if err != nil {
			return
		}
		if a, err := netip.ParseAddr(strings.Trim(req.URL.Hostname(), "[]")); err == nil && !isGlobal(a) {
			t.Fatalf("accepted %q whose host %s is not global", raw, a)
		}
		dialed = dialed[:0]
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
		for _, d := range dialed {
			ap, err := netip.ParseAddrPort(d)
			if err != nil || !isGlobal(ap.Addr()) {
				t.Fatalf("%q: dialed %s", raw, d)
			}
		}
	})
}

// The public fetcher (logos) refuses a zoned loopback address at dial, just as
// webhook deliveries do: both use Client.
func TestClientRefusesZonedLoopbackForAnyCaller(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://[::1%25"+loopbackName(t)+"]:"+port+"/logo.png", nil)
	if _, err := Client(Options{AllowHTTP: true}, time.Second).Do(req); !errors.Is(err, ErrBlocked) {
		t.Fatalf("want ErrBlocked, got %v", err)
	}
}
