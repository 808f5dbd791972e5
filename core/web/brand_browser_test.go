package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// A branded organization's page shows its logo (loaded under the page's
// CSP) and its accent on the button, in a narrow card, at phone and
// desktop width. LATCHKEY_SCREENSHOTS=DIR saves what the browser saw.
func TestBrowserBrandedPage(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	type look struct {
		LogoWidth, LogoHeight  float64 // as loaded (0: not loaded)
		Button                 string  // the button's background
		Main, Page, ScrollPage float64 // widths: the card's column, the window, its content
		Favicon                string
	}
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: size.width, Height: size.height, DeviceScaleFactor: 1, Mobile: size.width < 500})
			return err
		}))
		b.expect(b.open(s.url+"/p/onboarding"), 200, "NORTHWIND STUDIO", "Send access link")
		l, err := chromedp.Run(b.ctx, chromedp.Evaluate[look](`(() => {
			const img = document.querySelector('img.logo'), main = document.querySelector('main');
			return {LogoWidth: img ? img.naturalWidth : 0, LogoHeight: img ? img.naturalHeight : 0,
				Button: getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor,
				Main: main.getBoundingClientRect().width, Page: window.innerWidth,
				ScrollPage: document.documentElement.scrollWidth,
				Favicon: (document.querySelector('link[rel=icon]') || {}).href || ''};
		})()`))
		if err != nil {
			b.fail("measure: %v", err)
		}
		if dir := os.Getenv("LATCHKEY_SCREENSHOTS"); dir != "" {
			if shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil { // 100: PNG
				os.WriteFile(filepath.Join(dir, "branded-"+size.name+".png"), shot, 0o644)
			}
		}
		switch {
		case l.LogoWidth == 0 || l.LogoHeight == 0:
			b.fail("%s: the logo did not load", size.name)
		case l.Button != "rgb(11, 110, 79)":
			b.fail("%s: the button is %s, not the accent #0b6e4f", size.name, l.Button)
		case l.Favicon == "":
			b.fail("%s: no favicon", size.name)
		case l.ScrollPage > l.Page:
			b.fail("%s: the page is %.0f px wide in a %.0f px window", size.name, l.ScrollPage, l.Page)
		case size.name == "desktop" && (l.Main < 380 || l.Main > 460):
			b.fail("desktop: the card's column is %.0f px wide, not about 400", l.Main)
		}
	}
}
