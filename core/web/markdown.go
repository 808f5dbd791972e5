package web

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders what owners write (a portal's welcome text, its
// updates) as HTML that can hold no markup of theirs: raw HTML, inline or
// in blocks, is shown as the text it is; links get rel="noopener
// noreferrer" and lose dangerous schemes (javascript:, …); images become
// links to them (pages load nothing from elsewhere); headings, lists,
// emphasis, code and quotes render as CommonMark says.
type markdown struct{ md goldmark.Markdown }

func newMarkdown() *markdown {
	md := goldmark.New(
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkRel{}, 100))),
		goldmark.WithRendererOptions(html.WithHardWraps(),
			renderer.WithNodeRenderers(util.Prioritized(plainHTML{}, 100))),
	)
	return &markdown{md: md}
}

// Render turns Markdown into safe HTML for a template.
func (m *markdown) Render(src string) template.HTML {
	var b bytes.Buffer
	if err := m.md.Convert([]byte(src), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(src)) // never seen: goldmark writes to a buffer
	}
	return template.HTML(b.String()) // goldmark escaped every text; raw HTML is escaped by plainHTML
}

// linkRel marks every link as leading away from the portal.
type linkRel struct{}

func (linkRel) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && (n.Kind() == ast.KindLink || n.Kind() == ast.KindAutoLink) {
			n.SetAttributeString("rel", []byte("noopener noreferrer"))
		}
		return ast.WalkContinue, nil
	})
}

// plainHTML renders raw HTML as text, and images as links.
type plainHTML struct{}

func (plainHTML) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, func(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			segs := node.(*ast.RawHTML).Segments
			for i := range segs.Len() {
				seg := segs.At(i)
				w.Write(util.EscapeHTML(seg.Value(source)))
			}
		}
		return ast.WalkSkipChildren, nil
	})
	reg.Register(ast.KindHTMLBlock, func(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		n := node.(*ast.HTMLBlock)
		if !entering {
			return ast.WalkContinue, nil
		}
		w.WriteString("<p>")
		lines := n.Lines()
		for i := range lines.Len() {
			line := lines.At(i)
			if i > 0 {
				w.WriteString("<br>")
			}
			w.Write(util.EscapeHTML(bytes.TrimRight(line.Value(source), "\n")))
		}
		if n.HasClosure() {
			w.WriteString("<br>")
			closure := n.ClosureLine
			w.Write(util.EscapeHTML(bytes.TrimRight(closure.Value(source), "\n")))
		}
		w.WriteString("</p>\n")
		return ast.WalkContinue, nil
	})
	reg.Register(ast.KindImage, func(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		n := node.(*ast.Image)
		if !entering {
			return ast.WalkContinue, nil
		}
		dest := util.URLEscape(n.Destination, true)
		w.WriteString(`<a rel="noopener noreferrer" href="`)
		if !html.IsDangerousURL(dest) {
			w.Write(util.EscapeHTML(dest))
		}
		w.WriteString(`">`)
		alt := nodeText(n, source)
		if len(alt) == 0 {
			alt = []byte("image")
		}
		w.Write(util.EscapeHTML(alt))
		w.WriteString(`</a>`)
		return ast.WalkSkipChildren, nil
	})
}

// nodeText is the plain text under a node.
func nodeText(n ast.Node, source []byte) []byte {
	var b bytes.Buffer
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			b.Write(t.Segment.Value(source))
		} else {
			b.Write(nodeText(c, source))
		}
	}
	return b.Bytes()
}
