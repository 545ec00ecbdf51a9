package rawquery

import "testing"

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"access_token=x":        "access_token=x",
		"access%5Ftoken=x":      "access_token=x",
		"access%5ftoken=x":      "access_token=x",
		"%61ccess_token":        "access_token",
		"a+b":                   "a b",
		"bad%zz&access_token=x": "bad%zz&access_token=x",
		"end%4":                 "end%4",
		"end%41":                "endA",
		"%":                     "%",
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
