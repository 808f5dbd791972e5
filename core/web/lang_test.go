package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"latchkey/core"
	lkmail "latchkey/core/mail"
	"latchkey/storage/storetest"
)

// getIn is a GET with an Accept-Language header.
func (c *client) getIn(path, acceptLanguage string) response {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.at(path), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return c.do(req)
}

// A browser that asks for German gets the page in German, and says so.
func TestAcceptLanguageGermanGivesAGermanPage(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.getIn("/p/website-redesign", "de-DE,de;q=0.9,en;q=0.5").must(t, http.StatusForbidden,
		`<html lang="de">`, "Dieses Portal ist geschlossen", ">Zugangslink senden<", "E-Mail-Adresse", `name="lang" value="de"`)
	c.getIn("/m/"+s.links["website-redesign"], "de").must(t, 200,
		`<html lang="de">`, "Website Redesign als client@acme.test öffnen", ">Portal öffnen<")
	c.getIn("/no/such/page", "de").must(t, http.StatusNotFound, `<html lang="de">`, "Seite nicht gefunden", "Fehler 404")
	// A language latchkey does not speak falls back to English.
	c.getIn("/p/website-redesign", "ja").must(t, http.StatusForbidden, `<html lang="en">`, "This portal is closed", ">Send access link<")
}

// Without Accept-Language, a portal's page speaks the portal's language;
// a browser's own choice still wins.
func TestPortalDefaultLanguageAppliesWithoutAcceptLanguage(t *testing.T) {
	s := newSite(t)
	s.setPortal("website-redesign", core.PortalPatch{Language: ptr("fr")})
	c := s.client()
	c.getIn("/p/website-redesign", "").must(t, http.StatusForbidden, `<html lang="fr">`, "Ce portail est fermé", ">Envoyer le lien d'accès<")
	c.getIn("/m/"+s.links["website-redesign"], "").must(t, 200, `<html lang="fr">`, ">Ouvrir le portail<")
	c.getIn("/p/website-redesign", "en-GB").must(t, http.StatusForbidden, `<html lang="en">`, "This portal is closed")
	c.getIn("/p/website-redesign", "es").must(t, http.StatusForbidden, `<html lang="es">`, "Este portal está cerrado", ">Enviar enlace de acceso<")
	// Other portals keep English.
	c.getIn("/p/brand-guidelines", "").must(t, 200, `<html lang="en">`)
}

// An access link asked for from a French page is written in French, even
// on a portal whose default is German; one asked for without a language
// follows the portal.
func TestAccessLinkEmailFromAFrenchPageIsFrench(t *testing.T) {
	s := newSite(t)
	p := s.setPortal("website-redesign", core.PortalPatch{Language: ptr("de")})
	c := s.client()
	c.getIn("/p/website-redesign", "fr-CA,fr;q=0.9").must(t, http.StatusForbidden, `name="lang" value="fr"`)
	c.post("/p/website-redesign/access", url.Values{"email": {"client@acme.test"}, "lang": {"fr"}}).must(t, 200,
		`<html lang="fr">`, "Nous vous avons envoyé un lien.")
	m := s.LastMail("client@acme.test", core.MailAccessLink)
	if m.Lang != "fr" {
		t.Fatalf("the access link's email is in %q, want fr", m.Lang)
	}
	composer, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", s.url)
	if err != nil {
		t.Fatal(err)
	}
	env, err := composer.Compose(m, s.LastToken("client@acme.test", core.MailAccessLink))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := lkmail.Parse(env.Data)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Subject != "Votre lien vers Website Redesign" || !strings.Contains(parsed.Text, "Ouvrir le portail\u00a0:") ||
		!strings.Contains(parsed.HTML, `<html lang="fr">`) || !strings.Contains(parsed.HTML, "Bonjour Casey Client,") {
		t.Fatalf("not French:\n%s\n%s\n%s", parsed.Subject, parsed.Text, parsed.HTML)
	}

	// Without a form language or Accept-Language, the portal's.
	c.post("/p/website-redesign/access", url.Values{"email": {"client@acme.test"}})
	if m := s.LastMail("client@acme.test", core.MailAccessLink); m.Lang != "de" {
		t.Fatalf("without a page language the email is in %q, want the portal's de", m.Lang)
	}
	// A new link sent from the console is in the portal's language.
	storetest.Must(s.Svc.GenerateLink(s.Ctx, s.Admin, p.ID, "client@acme.test"))
	if m := s.LastMail("client@acme.test", core.MailNewLink); m.Lang != "de" {
		t.Fatalf("a new link's email is in %q, want the portal's de", m.Lang)
	}
}
