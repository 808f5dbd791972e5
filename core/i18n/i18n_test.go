package i18n_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/core/i18n"
)

// catalogs reads the JSON files as they are written: key -> its forms
// (one for a plain message).
func catalogs(t *testing.T) map[string]map[string][]string {
	t.Helper()
	names, err := filepath.Glob("catalogs/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no catalogs: %v", err)
	}
	out := map[string]map[string][]string{}
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var entries map[string]json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		msgs := map[string][]string{}
		for k, v := range entries {
			var s string
			if json.Unmarshal(v, &s) == nil {
				msgs[k] = []string{s}
				continue
			}
			var forms map[string]string
			if err := json.Unmarshal(v, &forms); err != nil {
				t.Fatalf("%s: %s is neither a string nor plural forms", name, k)
			}
			for _, f := range forms {
				msgs[k] = append(msgs[k], f)
			}
		}
		out[strings.TrimSuffix(filepath.Base(name), ".json")] = msgs
	}
	return out
}

// Every catalog has every key any other has: a page never falls back to
// another language for one sentence.
func TestEveryCatalogHasEveryKey(t *testing.T) {
	cats := catalogs(t)
	all := map[string]bool{}
	for _, msgs := range cats {
		for k := range msgs {
			all[k] = true
		}
	}
	for lang, msgs := range cats {
		var missing []string
		for k := range all {
			if _, ok := msgs[k]; !ok {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("catalogs/%s.json lacks %d keys: %s", lang, len(missing), strings.Join(missing, ", "))
		}
	}
}

// latchkey speaks the languages core accepts as a portal's, no more, no fewer.
func TestCatalogsAreCoresLanguages(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	got, want := b.Languages(), slices.Clone(core.Languages)
	if got[0] != i18n.Default || want[0] != i18n.Default {
		t.Fatalf("English is not first: %v, %v", got, want)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("catalogs %v, core.Languages %v", got, want)
	}
}

var (
	argRE  = regexp.MustCompile(`%\[(\d+)\][sd]`)
	verbRE = regexp.MustCompile(`%[^\[%]`)
	tagRE  = regexp.MustCompile(`<[^>]*>`)
)

// A translation uses the arguments English uses (the same positions, all
// forms of a plural together), marks only with <strong> and <code>, and
// writes no raw HTML.
func TestTranslationsUseTheSameArgumentsAndOnlyMarks(t *testing.T) {
	cats := catalogs(t)
	args := func(forms []string) []string {
		set := map[string]bool{}
		for _, f := range forms {
			for _, m := range argRE.FindAllStringSubmatch(f, -1) {
				set[m[1]] = true
			}
		}
		var out []string
		for a := range set {
			out = append(out, a)
		}
		sort.Strings(out)
		return out
	}
	for lang, msgs := range cats {
		for key, forms := range msgs {
			if en, ok := cats["en"][key]; ok && !slices.Equal(args(forms), args(en)) {
				t.Errorf("%s %s: arguments %v, English has %v", lang, key, args(forms), args(en))
			}
			for _, f := range forms {
				if verbRE.MatchString(f) {
					t.Errorf("%s %s: %q has a verb without an argument index (write %%[1]s)", lang, key, f)
				}
				for _, tag := range tagRE.FindAllString(f, -1) {
					if !slices.Contains([]string{"<strong>", "</strong>", "<code>", "</code>"}, tag) {
						t.Errorf("%s %s: %q holds %s; a message may only mark words with <strong> or <code>", lang, key, f, tag)
					}
				}
				if rest := tagRE.ReplaceAllString(f, ""); strings.ContainsAny(rest, "<>&") {
					t.Errorf("%s %s: %q holds raw HTML characters", lang, key, f)
				}
				if strings.TrimSpace(f) != f || f == "" {
					t.Errorf("%s %s: %q is empty or has spaces around it", lang, key, f)
				}
			}
		}
	}
}

func TestMatchPicksTheVisitorsLanguage(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ accept, portal, want string }{
		{"de", "", "de"},
		{"de-CH,de;q=0.9,en;q=0.8", "fr", "de"},
		{"fr-FR", "", "fr"},
		{"es-419,es;q=0.9", "", "es"},
		{"en-US,en;q=0.9", "de", "en"},
		{"ja,zh;q=0.8", "fr", "fr"}, // none spoken: the portal's
		{"", "es", "es"},
		{"", "", "en"},
		{"", "xx", "en"},
		{"garbage;;;q=", "de", "de"},
		{"ja, de;q=0.3", "fr", "de"},
	} {
		if got := b.Match(c.accept, c.portal); got != c.want {
			t.Errorf("Match(%q, %q) = %s, want %s", c.accept, c.portal, got, c.want)
		}
	}
}

func TestDatesAndWaitsInEachLanguage(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	first := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		lang, day, datetime, first, wait, waits string
	}{
		{"en", "2 March 2026", "Monday 2 March 2026, 09:30 UTC", "1 May 2026", "1 second", "about 3 hours"},
		{"de", "2. März 2026", "Montag, 2. März 2026 um 09:30 UTC", "1. Mai 2026", "1 Sekunde", "etwa 3 Stunden"},
		{"fr", "2 mars 2026", "lundi 2 mars 2026 à 09:30 UTC", "1er mai 2026", "1 seconde", "environ 3 heures"},
		{"es", "2 de marzo de 2026", "lunes, 2 de marzo de 2026, a las 09:30 UTC", "1 de mayo de 2026", "1 segundo", "unas 3 horas"},
	} {
		l := b.Lang(c.lang)
		for _, got := range [][2]string{{l.Day(at), c.day}, {l.DateTime(at), c.datetime}, {l.Day(first), c.first},
			{l.Wait(time.Second), c.wait}, {l.Wait(3 * time.Hour), c.waits}} {
			if got[0] != got[1] {
				t.Errorf("%s: %q, want %q", c.lang, got[0], got[1])
			}
		}
	}
	// English says waits as core.HumanWait does.
	for _, d := range []time.Duration{0, time.Second, 40 * time.Second, time.Minute, 90 * time.Second, 3 * time.Minute, time.Hour, 90 * time.Minute, 5 * time.Hour} {
		if got, want := b.Lang("en").Wait(d), core.HumanWait(d); got != want {
			t.Errorf("Wait(%s) = %q, core.HumanWait says %q", d, got, want)
		}
	}
}

func TestPluralsAndEscaping(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	en, fr := b.Lang("en"), b.Lang("fr")
	if got := en.T("mail.subject.access_digest", 1, "Site"); got != "Another request for access to Site" {
		t.Errorf("one: %q", got)
	}
	if got := en.T("mail.subject.access_digest", 37, "Site"); got != "37 more requests for access to Site" {
		t.Errorf("other: %q", got)
	}
	if got := fr.T("mail.digest.more", 1); got != "et 1 autre" {
		t.Errorf("fr one: %q", got)
	}
	if got := fr.T("mail.digest.more", 2); got != "et 2 autres" {
		t.Errorf("fr other: %q", got)
	}
	if got := string(en.HTML("closed.body", `<b>"A+B"</b>`, "O'Neil & Co")); got != "<strong>&lt;b&gt;&#34;A&#43;B&#34;&lt;/b&gt;</strong> is open only to people O&#39;Neil &amp; Co has invited. If you have access, enter your email and we will send you a link that opens it." {
		t.Errorf("HTML: %s", got)
	}
	if got := en.T("closed.body", "<b>", "Org"); !strings.HasPrefix(got, "<b> is open only to people Org has invited.") {
		t.Errorf("T keeps the marks or escapes: %s", got)
	}
}
