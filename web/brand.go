package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Brand is the platform's identity on every page: its name, a logo and an
// accent colour, configured at start (serve --brand-name, --brand-logo,
// --brand-color) and served from the issuer's own origin.
type Brand struct {
	Name string
	// Logo is the image file's content; LogoType its media type.
	Logo     []byte
	LogoType string
	// Color is the accent colour, #RRGGBB; empty keeps the default.
	Color string
}

// Limits of a brand.
const (
	MaxBrandName  = 60
	MaxBrandLogo  = 256 << 10
	defaultBrand  = "Gatehouse"
	logoPath      = "/assets/logo"
	brandCSSPath  = "/assets/brand.css"
	logoCSP       = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
	assetMaxAge   = "public, max-age=3600"
	logoCacheLong = "public, max-age=31536000, immutable"
)

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// NewBrand validates a brand and reports every problem at once: a name of
// one line of at most 60 characters, a logo that is a PNG, JPEG or SVG
// image of at most 256 KiB, a colour #RRGGBB. An empty name is the
// default; a nil logo and an empty colour are none.
func NewBrand(name string, logo []byte, color string) (Brand, error) {
	var errs []error
	b := Brand{Name: strings.TrimSpace(name), Color: strings.ToLower(color)}
	if b.Name == "" {
		b.Name = defaultBrand
	}
	if !utf8.ValidString(b.Name) || utf8.RuneCountInString(b.Name) > MaxBrandName || strings.IndexFunc(b.Name, unicode.IsControl) >= 0 {
		errs = append(errs, fmt.Errorf("--brand-name must be one line of at most %d characters", MaxBrandName))
	}
	if color != "" && !hexColor.MatchString(color) {
		errs = append(errs, fmt.Errorf("--brand-color %q must be a colour #RRGGBB, as in '#2456c4'", color))
	}
	if logo != nil {
		t, err := logoType(logo)
		if err != nil {
			errs = append(errs, fmt.Errorf("--brand-logo: %w", err))
		}
		b.Logo, b.LogoType = logo, t
	}
	return b, errors.Join(errs...)
}

// logoType tells a PNG, JPEG or SVG image by its content, not its name.
func logoType(logo []byte) (string, error) {
	switch {
	case len(logo) > MaxBrandLogo:
		return "", fmt.Errorf("the file is %d KiB; at most %d KiB", len(logo)>>10, MaxBrandLogo>>10)
	case bytes.HasPrefix(logo, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case bytes.HasPrefix(logo, []byte("\xff\xd8\xff")):
		return "image/jpeg", nil
	case isSVG(logo):
		return "image/svg+xml", nil
	}
	return "", errors.New("the file is not a PNG, JPEG or SVG image")
}

// isSVG reports whether data is XML whose root element is svg.
func isSVG(data []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local == "svg"
		}
	}
}

// logoVersion names the logo's content, so that the page can let the
// browser cache it for good.
func (b Brand) logoVersion() string {
	sum := sha256.Sum256(b.Logo)
	return hex.EncodeToString(sum[:8])
}

// LogoURL is the path of the logo on this origin, empty without a logo.
func (b Brand) LogoURL() string {
	if b.Logo == nil {
		return ""
	}
	return logoPath + "?v=" + b.logoVersion()
}

// css is the generated stylesheet of the accent colour: the pages' CSP
// allows no inline style, so the colour is a stylesheet of this origin.
// The accent is also text (links, secondary buttons), so each colour
// scheme gets the brand colour moved just far enough towards black (on
// the light page) or white (on the dark one) to read at WCAG AA (4.5:1);
// a colour that reads already is used as it is.
func (b Brand) css() []byte {
	if b.Color == "" {
		return []byte("/* no --brand-color: the default accent */\n")
	}
	light, dark := readableOn(b.Color, "#ffffff", "#000000"), readableOn(b.Color, darkCanvas, "#ffffff")
	return fmt.Appendf(nil, ":root { --accent: %s; --accent-text: %s; }\n@media (prefers-color-scheme: dark) {\n  :root { --accent: %s; --accent-text: %s; }\n}\n",
		light, textOn(light), dark, textOn(dark))
}

// darkCanvas is the browsers' dark-mode page background (color-scheme:
// light dark).
const darkCanvas = "#121212"

// minContrast is WCAG 2.1 AA for text.
const minContrast = 4.5

// readableOn returns color, mixed with toward in steps of 5 % until it
// reads on bg at minContrast.
func readableOn(color, bg, toward string) string {
	c, t := rgb(color), rgb(toward)
	for i := 0; i <= 20; i++ {
		f := float64(i) / 20
		var m [3]float64
		for k := range m {
			m[k] = c[k] + (t[k]-c[k])*f
		}
		hex := fmt.Sprintf("#%02x%02x%02x", int(math.Round(m[0])), int(math.Round(m[1])), int(math.Round(m[2])))
		if contrast(hex, bg) >= minContrast {
			return hex
		}
	}
	return toward
}

func rgb(color string) [3]float64 {
	var out [3]float64
	for i := range out {
		v, _ := strconv.ParseUint(color[1+2*i:3+2*i], 16, 8)
		out[i] = float64(v)
	}
	return out
}

// luminance is the WCAG relative luminance of #rrggbb.
func luminance(color string) float64 {
	lum := 0.0
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		c := rgb(color)[i] / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += w * c
	}
	return lum
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// textOn is black or white, whichever reads better on the colour.
func textOn(color string) string {
	if contrast(color, "#ffffff") >= contrast(color, "#000000") {
		return "#fff"
	}
	return "#000"
}

func (p *Pages) brandCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", assetMaxAge)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(p.Brand.css())
}

// logo serves the logo with its own media type and a policy under which an
// SVG opened directly can run no script and load nothing.
func (p *Pages) logo(w http.ResponseWriter, r *http.Request) {
	if p.Brand.Logo == nil {
		p.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.Brand.LogoType)
	h.Set("Content-Security-Policy", logoCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", logoCacheLong)
	h.Set("ETag", `"`+p.Brand.logoVersion()+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.Brand.Logo))
}
