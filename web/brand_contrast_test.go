package web

import (
	"regexp"
	"testing"
)

// Issue 13 items 4 and 5: whatever --brand-color an operator picks, the
// accent reads at WCAG AA (4.5:1) as text on the light page and on the
// dark one, and so does the text on an accent button; a colour that reads
// already is kept as it is (the positive control).
func TestBrandColorReadableInBothSchemes(t *testing.T) {
	accent := regexp.MustCompile(`--accent: (#[0-9a-f]{6}); --accent-text: (#[0-9a-f]{3,6});`)
	for _, color := range []string{"#2456c4", "#ffcc00", "#000000", "#ffffff", "#777777", "#00ff00", "#0b3d91"} {
		css := string(Brand{Color: color}.css())
		m := accent.FindAllStringSubmatch(css, -1)
		if len(m) != 2 {
			t.Fatalf("%s: brand.css %q has %d accents, want one per scheme", color, css, len(m))
		}
		for i, bg := range []string{"#ffffff", darkCanvas} {
			acc, text := m[i][1], expand(m[i][2])
			if c := contrast(acc, bg); c < minContrast {
				t.Errorf("%s: accent %s on %s is %.2f:1", color, acc, bg, c)
			}
			if c := contrast(text, acc); c < minContrast {
				t.Errorf("%s: text %s on the accent %s is %.2f:1", color, text, acc, c)
			}
		}
	}
	if css := string(Brand{Color: "#0b3d91"}.css()); !regexp.MustCompile(`^:root \{ --accent: #0b3d91;`).MatchString(css) {
		t.Errorf("a dark blue that reads on white was changed in light mode: %q", css)
	}
}

// expand writes #fff as #ffffff.
func expand(c string) string {
	if len(c) == 4 {
		return "#" + string([]byte{c[1], c[1], c[2], c[2], c[3], c[3]})
	}
	return c
}
