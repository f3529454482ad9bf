// Package mdtexttest checks that Markdown written with package mdtext
// renders nothing live in a GitHub-flavoured Markdown renderer, for the
// tests of the packages that write reports.
package mdtexttest

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	goldhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// GFM renders GitHub-flavoured Markdown with footnotes and definition
// lists, raw HTML let through, as the most permissive renderer would.
var GFM = goldmark.New(
	goldmark.WithExtensions(extension.GFM, extension.Footnote, extension.DefinitionList),
	goldmark.WithRendererOptions(goldhtml.WithUnsafe()),
)

// CheckRendersNothingLive renders doc with a GFM renderer ([GFM]) and
// fails if anything live comes of it: a link, an image, a footnote, raw
// HTML (but <br>), an HTML tag that ownTags, the tags of the document's own
// markup, does not match, a control or format character, or text outside
// code that some renderer would make an autolink or a mention of.
func CheckRendersNothingLive(t testing.TB, doc string, ownTags *regexp.Regexp) {
	t.Helper()
	src := []byte(doc)
	root := GFM.Parser().Parse(text.NewReader(src))
	err := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link, *ast.AutoLink, *ast.Image, *ast.HTMLBlock,
			*extast.FootnoteLink, *extast.FootnoteBacklink, *extast.Footnote, *extast.TaskCheckBox,
			*extast.DefinitionList:
			t.Errorf("the document renders a %s", n.Kind())
		case *ast.RawHTML:
			for i := range n.Segments.Len() {
				if seg := n.Segments.At(i); string(seg.Value(src)) != "<br>" {
					t.Errorf("the document renders raw HTML %q", seg.Value(src))
				}
			}
		}
		return ast.WalkContinue, nil
	})
	require.NoError(t, err)

	out := RenderHTML(t, doc)
	for _, bad := range []string{"<a ", "<a>", "<img", "<script", "<iframe"} {
		if strings.Contains(out, bad) {
			t.Errorf("the HTML holds %q", bad)
		}
	}
	for _, tag := range htmlTag.FindAllString(out, -1) {
		if !ownTags.MatchString(tag) {
			t.Errorf("the HTML holds a tag the document itself does not make: %s", tag)
		}
	}
	for i, r := range out {
		if r == utf8.RuneError && !strings.HasPrefix(out[i:], "\uFFFD") {
			t.Errorf("the HTML holds a byte that is not UTF-8 at %d", i)
		}
		if r != '\n' && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Errorf("the HTML holds %U at %d", r, i)
		}
	}
	plain := PlainText(out)
	for _, pattern := range autolinkPatterns {
		if loc := pattern.FindStringIndex(plain); loc != nil {
			t.Errorf("the text outside code holds %q, an autolink for some renderer: …%s…",
				plain[loc[0]:loc[1]], plain[max(0, loc[0]-20):min(len(plain), loc[1]+20)])
		}
	}
}

// autolinkPatterns are the starts of GFM's extended autolinks (a URL
// scheme, www., an e-mail address) and of GitHub's mentions.
var autolinkPatterns = []*regexp.Regexp{
	regexp.MustCompile(`[A-Za-z]://`),
	regexp.MustCompile(`(?i)www\.[A-Za-z0-9_-]`),
	regexp.MustCompile(`[A-Za-z0-9._+-]@|@[A-Za-z0-9]`),
}

// RenderHTML renders doc to HTML with [GFM].
func RenderHTML(t testing.TB, doc string) string {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, GFM.Convert([]byte(doc), &out))
	return out.String()
}

var (
	codeElement = regexp.MustCompile(`(?s)<pre>.*?</pre>|<code>.*?</code>`)
	htmlTag     = regexp.MustCompile(`<[^>]*>`)
)

// PlainText is the text of HTML a renderer made, code left out, as a
// reader sees it.
func PlainText(doc string) string {
	doc = codeElement.ReplaceAllString(doc, " ")
	return html.UnescapeString(htmlTag.ReplaceAllString(doc, " "))
}
