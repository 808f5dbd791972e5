package mail_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"latchkey/core"
	lkmail "latchkey/core/mail"
)

// Every message rendered from the precompiled parts (templates painted
// once per accent, the layout cut once per language, organization and
// logo, the bodies cut once per batch) is byte for byte the message
// rendered whole, in every language and brand, with subjects and names
// that every escaper changes, an organization named with the layout's own
// stand-ins, and every message's own secret.
func TestPartsRenderAsWhole(t *testing.T) {
	parts, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	lkmail.RenderWhole(whole)
	branded, logos := brandedSample(t)
	parts.Logos, whole.Logos = logos, logos
	orgs := []string{"Northwind Studio", `Tom & Jerry's <"Shop"> +1`, "LatchkeyTitleMark7f3a9c", "LatchkeyBodyMark7f3a9c & Co", ""}
	brands := []map[string]string{nil, branded.Data, {core.MailDataAccent: "#aa3300", core.MailDataReplyTo: "hi@x.test"}}
	names := []string{"", "Ana", `O'Brien & <Sons> "x" +1`, "Zoë Ölander", "  two   spaces  "}
	n := 0
	for _, lang := range []string{"en", "de", "fr", "es"} {
		for _, kind := range kinds {
			for _, org := range orgs {
				for _, brand := range brands {
					for _, name := range names {
						m := sample(kind)
						m.Lang, m.Data["org"] = lang, org
						m.Data["portal"] = `Q&A <"launch"> 'site' +` + org
						for k, v := range brand {
							m.Data[k] = v
						}
						m.ToName = name
						token := ""
						if m.LinkPath != "" {
							// Each message its own secret, some short, some with every character a secret may hold.
							token = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "secret %d of the batch \xfb\xff", n))
							if n%7 == 0 {
								token = token[:12]
							}
						}
						if kind == core.MailMyLinks {
							token = fixedToken + " " + strings.Repeat("Uv", 21) + "W"
						}
						a, err := parts.Compose(m, token)
						if err != nil {
							t.Fatal(err)
						}
						b, err := whole.Compose(m, token)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(a.Data, b.Data) {
							t.Fatalf("%s %s, org %q, brand %v, name %q: the parts render\n%s\nthe message whole\n%s", lang, kind, org, brand, name, a.Data, b.Data)
						}
						n++
					}
				}
			}
		}
	}
	// The cut bodies served messages they were not cut from: at most one
	// per language, cut kind (4), organization, brand and whether there is
	// a name, not one per message.
	if cut, batches := lkmail.CutBodies(parts), 4*4*len(orgs)*len(brands)*2; cut == 0 || cut > batches {
		t.Errorf("%d bodies cut for %d batches", cut, batches)
	}
	t.Logf("%d messages compared, %d bodies cut", n, lkmail.CutBodies(parts))
}

// The templates are painted in their source, which paints exactly what a
// rendered message's style attributes hold only while no style attribute
// holds an action.
func TestTemplateStylesHoldNoAction(t *testing.T) {
	src, err := os.ReadFile("templates/html.html")
	if err != nil {
		t.Fatal(err)
	}
	styles := regexp.MustCompile(`style="[^"]*"`).FindAllString(string(src), -1)
	if len(styles) < 10 {
		t.Fatalf("found %d style attributes", len(styles))
	}
	for _, s := range styles {
		if strings.Contains(s, "{{") {
			t.Errorf("a style attribute holds an action, which painting the source would not paint as rendered: %s", s)
		}
	}
}
