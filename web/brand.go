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
	logoCSP       = "default-src 'none'; style-src 'unsafe-inline'"
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
func (b Brand) css() []byte {
	if b.Color == "" {
		return []byte("/* no --brand-color: the default accent */\n")
	}
	return fmt.Appendf(nil, ":root { --accent: %s; --accent-text: %s; }\n", b.Color, textOn(b.Color))
}

// textOn is black or white, whichever reads better on the colour (WCAG
// relative luminance).
func textOn(color string) string {
	lum := 0.0
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(color[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += w * c
	}
	// Contrast with white (1.05/(L+0.05)) against black ((L+0.05)/0.05).
	if 1.05/(lum+0.05) >= (lum+0.05)/0.05 {
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
