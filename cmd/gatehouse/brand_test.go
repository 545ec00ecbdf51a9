package main

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 13 item 4: the platform's name, logo and colour, configured at
// start, on every page, served from the issuer's own origin.

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pngLogo(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var logoRef = `<img src="/assets/logo?v=`

// Every page, the 404 and 405 pages included, shows the brand's name and
// logo and links the generated stylesheet of its colour.
func TestBrandOnEveryPage(t *testing.T) {
	logo := writeFile(t, "logo.png", pngLogo(t))
	f := newFlowFixture(t, "--brand-name", "Acme Hub & Co", "--brand-logo", logo, "--brand-color", "#FFCC00")
	pages := f.userPages(t)
	for name, p := range pages {
		for _, want := range []string{"Acme Hub &amp; Co</span>", logoRef, `<link rel="stylesheet" href="/assets/brand.css">`, " · Acme Hub &amp; Co</title>"} {
			if name == "home (signed in)" || name == "home (signed out)" {
				want = strings.Replace(want, " · ", "<title>", 1)
			}
			if !strings.Contains(p.body, want) {
				t.Errorf("%s (%d): no %q", name, p.status, want)
			}
		}
		if strings.Contains(p.body, "Gatehouse") {
			t.Errorf("%s: still says Gatehouse", name)
		}
	}
	css := send(t, "GET", f.srv.URL+"/assets/brand.css", "", "", nil)
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.raw, "--accent: #ffcc00;") ||
		!strings.Contains(css.raw, "--accent-text: #000;") || css.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("brand.css: %d %s %q", css.status, css.header.Get("Content-Type"), css.raw)
	}
	// The default brand is Gatehouse's, without a logo.
	plain := newFlowFixture(t)
	p := newBrowser(t, plain.srv.URL).get("/login")
	if !strings.Contains(p.body, "<span>Gatehouse</span>") || strings.Contains(p.body, logoRef) {
		t.Fatalf("default brand: %.400s", p.body)
	}
	if r := send(t, "GET", plain.srv.URL+"/assets/logo", "", "", nil); r.status != 404 {
		t.Fatalf("logo without --brand-logo: %d", r.status)
	}
}

// The logo is served from this origin with its own type, a long cache and
// a policy under which an SVG can run no script.
func TestBrandLogoServedWithItsHeaders(t *testing.T) {
	for name, tc := range map[string]struct {
		file, ctype string
		data        []byte
	}{
		"png": {"logo.png", "image/png", pngLogo(t)},
		"svg": {"logo.svg", "image/svg+xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script><rect width="4" height="4"/></svg>`)},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFlowFixture(t, "--brand-logo", writeFile(t, tc.file, tc.data))
			p := newBrowser(t, f.srv.URL).get("/login")
			i := strings.Index(p.body, logoRef)
			if i < 0 {
				t.Fatalf("no logo on the login page")
			}
			src := p.body[i+len(`<img src="`):]
			src = src[:strings.IndexByte(src, '"')]
			r := send(t, "GET", f.srv.URL+src, "", "", nil)
			h := r.header
			if r.status != 200 || r.raw != string(tc.data) || h.Get("Content-Type") != tc.ctype || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'; sandbox" ||
				!strings.Contains(h.Get("Cache-Control"), "max-age=31536000") || h.Get("ETag") == "" {
				t.Fatalf("logo %s: %d, headers %v", src, r.status, h)
			}
			again := send(t, "GET", f.srv.URL+src, "", "", map[string]string{"If-None-Match": h.Get("ETag")})
			if again.status != http.StatusNotModified {
				t.Fatalf("logo with its ETag: %d, want 304", again.status)
			}
		})
	}
}

// A bad brand is refused at start, each problem in one line.
func TestBrandRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"colour name":       {[]string{"--brand-color", "red"}, `--brand-color "red" must be a colour #RRGGBB`},
		"short colour":      {[]string{"--brand-color", "#fff"}, "must be a colour #RRGGBB"},
		"colour with CSS":   {[]string{"--brand-color", "#123456; background: url(x)"}, "must be a colour #RRGGBB"},
		"missing logo":      {[]string{"--brand-logo", filepath.Join(dir, "nope.png")}, "--brand-logo " + filepath.Join(dir, "nope.png") + ": cannot read the file: no such file or directory"},
		"logo not an image": {[]string{"--brand-logo", writeFile(t, "logo.png", []byte("<html><script>alert(1)</script>"))}, "--brand-logo: the file is not a PNG, JPEG or SVG image"},
		"logo too large":    {[]string{"--brand-logo", writeFile(t, "big.png", append(pngLogo(t), make([]byte, 256<<10)...))}, "the file is larger than 256 KiB"},
		"long name":         {[]string{"--brand-name", strings.Repeat("x", 61)}, "--brand-name must be one line of at most 60 characters"},
		"two-line name":     {[]string{"--brand-name", "Acme\nHub"}, "--brand-name must be one line"},
	} {
		t.Run(name, func(t *testing.T) {
			code, errOut := runRefused(t, dir, nil, append([]string{"serve", "--dev", "--addr", "127.0.0.1:0"}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want it to say %q", code, errOut, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 {
				t.Fatalf("%d lines: %q", lines, errOut)
			}
		})
	}
}
