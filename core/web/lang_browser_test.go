package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Issue 16 in chromium: a browser that asks for German gets the closed
// portal's page in German, with lang="de", at phone width.
// LATCHKEY_SCREENSHOTS=DIR saves what it saw.
func TestBrowserGermanPage(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}})
		return err
	}))
	b.expect(b.open(s.url+"/p/website-redesign"), 403, "Zugangslink senden")
	lang, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil || lang != "de" {
		b.fail("lang %q, %v", lang, err)
	}
	if dir := os.Getenv("LATCHKEY_SCREENSHOTS"); dir != "" {
		if shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "german-phone.png"), shot, 0o644)
		}
	}
}
