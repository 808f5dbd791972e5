package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"golang.org/x/net/html"

	"latchkey/core/i18n"
)

// action stands for a template action in the text of a template: no
// letter, so it never counts as text.
const action = "\uE000"

// templateText is the text of a parsed template in the order it appears,
// every action replaced by action, and the catalog keys its calls name.
func templateText(n parse.Node, b *strings.Builder, keys map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			templateText(c, b, keys)
		}
	case *parse.TextNode:
		b.Write(n.Text)
	case *parse.IfNode:
		b.WriteString(action)
		templateText(n.List, b, keys)
		templateText(n.ElseList, b, keys)
		b.WriteString(action)
	case *parse.RangeNode:
		b.WriteString(action)
		templateText(n.List, b, keys)
		templateText(n.ElseList, b, keys)
		b.WriteString(action)
	case *parse.WithNode:
		b.WriteString(action)
		templateText(n.List, b, keys)
		templateText(n.ElseList, b, keys)
		b.WriteString(action)
	case *parse.ActionNode:
		b.WriteString(action)
		messageKeys(n.Pipe, keys)
	case *parse.TemplateNode:
		b.WriteString(action)
		messageKeys(n.Pipe, keys)
	default:
		b.WriteString(action)
	}
}

// messageKeys collects the string arguments of the catalog's methods
// (.T "key", .H, .P, .Label, .Button url "key") in a pipeline.
func messageKeys(p *parse.PipeNode, keys map[string]bool) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		var name string
		switch f := cmd.Args[0].(type) {
		case *parse.FieldNode:
			name = f.Ident[len(f.Ident)-1]
		case *parse.VariableNode:
			name = f.Ident[len(f.Ident)-1]
		}
		keyAt := map[string]int{"T": 1, "H": 1, "P": 1, "Label": 1, "Button": 2}[name] // the key's place among the arguments
		for i, a := range cmd.Args {
			switch a := a.(type) {
			case *parse.StringNode:
				if keyAt > 0 && i == keyAt {
					keys[a.Text] = true
				}
			case *parse.PipeNode:
				messageKeys(a, keys)
			}
		}
	}
}

// visibleAttrs are the attributes a reader sees or hears.
var visibleAttrs = map[string]bool{"alt": true, "title": true, "placeholder": true, "aria-label": true, "label": true}

func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }

// htmlTextProblems lists the words of an HTML template's text that a reader
// would see: character data outside <style> and <script>, and visible
// attributes.
func htmlTextProblems(text string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(text))
	hidden := 0 // inside <style> or <script>
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.TextToken:
			if t := strings.TrimSpace(string(z.Text())); hidden == 0 && hasLetter(t) {
				out = append(out, t)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if tok.Data == "style" || tok.Data == "script" {
				if tok.Type == html.StartTagToken {
					hidden++
				} else if tok.Type == html.EndTagToken {
					hidden--
				}
			}
			for _, a := range tok.Attr {
				if visibleAttrs[a.Key] && hasLetter(a.Val) {
					out = append(out, a.Key+"="+a.Val)
				}
			}
		}
	}
}

// No template holds text a reader sees: every word comes from the
// catalog, and every key a template names is in it.
func TestTemplatesHoldNoTextOutsideTheCatalog(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, k := range b.Keys(i18n.Default) {
		known[k] = true
	}
	files, _ := filepath.Glob("templates/*.html")
	mailFiles, _ := filepath.Glob("../mail/templates/*")
	files = append(files, mailFiles...)
	if len(files) < 10 {
		t.Fatalf("found only %d templates", len(files))
	}
	funcs := map[string]any{"join": true, "markdown": true, "iso": true}
	used := map[string]bool{}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		trees, err := parse.Parse(name, string(src), "", "", funcs, builtins)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for tname, tree := range trees {
			var text strings.Builder
			keys := map[string]bool{}
			templateText(tree.Root, &text, keys)
			var problems []string
			if strings.HasSuffix(name, ".txt") {
				for _, line := range strings.Split(text.String(), action) {
					if hasLetter(line) {
						problems = append(problems, strings.TrimSpace(line))
					}
				}
			} else {
				problems = htmlTextProblems(text.String())
			}
			for _, p := range problems {
				t.Errorf("%s, template %q: text outside the catalog: %q", name, tname, p)
			}
			for k := range keys {
				used[k] = true
				if !known[k] {
					t.Errorf("%s, template %q: no catalog key %q", name, tname, k)
				}
			}
		}
	}
	if !used["action.open_portal"] || !used["mail.hello"] {
		t.Fatal("the walk found none of the catalog calls")
	}
}

// builtins are text/template's predefined functions, for parse.Parse.
var builtins = map[string]any{"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true,
	"ge": true, "len": true, "index": true, "print": true, "printf": true, "println": true, "html": true, "js": true, "urlquery": true,
	"slice": true, "call": true}

// The checker itself finds text, in character data and in visible
// attributes, and passes markup, actions and punctuation.
func TestTemplateTextCheckerIsPrecise(t *testing.T) {
	for _, c := range []struct {
		src  string
		want int
	}{
		{`<p class="hint">{{.T "x"}} <a href="/login?portal={{.Slug}}">{{.T "y"}}</a>.</p>`, 0},
		{`<input type="email" id="email" {{if .E}}aria-invalid="true"{{end}} value="{{.Email}}">`, 0},
		{`<span aria-hidden="true"> · </span>{{.Count}} · ({{.Size}})`, 0},
		{`<style>body{font:16px Roboto}</style><td style="font:12px Arial">{{.X}}</td>`, 0},
		{`<p>Hello {{.Name}}</p>`, 1},
		{`<img alt="Logo of {{.Org}}">`, 1},
		{`<button>{{if .A}}Join{{else}}{{.T "x"}}{{end}}</button>`, 1},
		{`<a href="{{.URL}}" title="Open it">{{.T "x"}}</a>`, 1},
	} {
		trees, err := parse.Parse("t", c.src, "", "", map[string]any{}, builtins)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		templateText(trees["t"].Root, &b, map[string]bool{})
		if got := htmlTextProblems(b.String()); len(got) != c.want {
			t.Errorf("%s: found %q, want %d", c.src, got, c.want)
		}
	}
}
