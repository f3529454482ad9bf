package phases_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

const fsmPath = "github.com/looplab/fsm"

// fsmInAPI lists the exported declarations of a file that mention the fsm
// package in a signature, a type, or a variable's type or value. looplab/fsm
// is an engine inside the package: if one of its types leaked, users would
// depend on it and it could never be replaced.
func fsmInAPI(file *ast.File) []string {
	local := ""
	for _, imp := range file.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil || p != fsmPath {
			continue
		}
		local = path.Base(p)
		if imp.Name != nil {
			local = imp.Name.Name
		}
	}
	if local == "" {
		return nil
	}
	mentions := func(n ast.Node) bool {
		found := false
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
					found = true
				}
			}
			return !found
		})
		return found
	}

	var leaks []string
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Name.IsExported() && mentions(d.Type) {
				leaks = append(leaks, "func "+d.Name.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && typeMentions(s, mentions) {
						leaks = append(leaks, "type "+s.Name.Name)
					}
				case *ast.ValueSpec:
					for i, name := range s.Names {
						if !name.IsExported() {
							continue
						}
						if s.Type != nil && mentions(s.Type) || i < len(s.Values) && mentions(s.Values[i]) {
							leaks = append(leaks, "var "+name.Name)
						}
					}
				}
			}
		}
	}
	return leaks
}

// typeMentions reports whether the visible part of an exported type mentions
// fsm: unexported struct fields are the package's own business.
func typeMentions(s *ast.TypeSpec, mentions func(ast.Node) bool) bool {
	if s.TypeParams != nil && mentions(s.TypeParams) {
		return true
	}
	st, ok := s.Type.(*ast.StructType)
	if !ok {
		return mentions(s.Type)
	}
	for _, field := range st.Fields.List {
		exported := len(field.Names) == 0 // embedded: promoted into the API
		for _, n := range field.Names {
			exported = exported || n.IsExported()
		}
		if exported && mentions(field.Type) {
			return true
		}
	}
	return false
}

func parseSource(t *testing.T, name, src string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
	require.NoError(t, err)
	return f
}

func TestFSMTypesNeverAppearInTheAPI(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	checked := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		assert.Empty(t, fsmInAPI(parseSource(t, name, string(src))), "%s exposes looplab/fsm", name)
		checked++
	}
	require.Positive(t, checked, "no source files found")
}

func TestFSMCheckerCatchesLeaks(t *testing.T) {
	t.Parallel()
	// The checker must fail on each way a leak could be written, or the
	// test above proves nothing.
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"parameter", "func F(e *fsm.Event) {}", []string{"func F"}},
		{"result", "func F() fsm.Callbacks { return nil }", []string{"func F"}},
		{"method", "type M struct{}\nfunc (M) Engine() *fsm.FSM { return nil }", []string{"func Engine"}},
		{"exported field", "type M struct{ Table []fsm.EventDesc }", []string{"type M"}},
		{"embedded field", "type M struct{ *fsm.FSM }", []string{"type M"}},
		{"alias", "type Callbacks = fsm.Callbacks", []string{"type Callbacks"}},
		{"interface", "type I interface{ Event() fsm.Event }", []string{"type I"}},
		{"error value", "var ErrCanceled = fsm.CanceledError{}", []string{"var ErrCanceled"}},
		{"typed variable", "var Machine *fsm.FSM", []string{"var Machine"}},
		{"unexported field is fine", "type M struct{ table []fsm.EventDesc }", nil},
		{"unexported func is fine", "func run(e *fsm.Event) {}", nil},
		{"unexported var is fine", "var errCanceled = fsm.CanceledError{}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "package p\n\nimport \"github.com/looplab/fsm\"\n\n" + tt.src + "\n"
			assert.Equal(t, tt.want, fsmInAPI(parseSource(t, "p.go", src)))

			renamed := "package p\n\nimport engine \"github.com/looplab/fsm\"\n\n" + strings.ReplaceAll(tt.src, "fsm.", "engine.") + "\n"
			assert.Equal(t, tt.want, fsmInAPI(parseSource(t, "p.go", renamed)), "renamed import")
		})
	}
}

func TestExportedErrorsAreThePackagesOwn(t *testing.T) {
	t.Parallel()
	sentinels := map[string]error{
		"ErrInvalidTransition": phases.ErrInvalidTransition,
		"ErrUnknownAction":     phases.ErrUnknownAction,
		"ErrUnknownPhase":      phases.ErrUnknownPhase,
		"ErrGuardFailed":       phases.ErrGuardFailed,
		"ErrInvalidModel":      phases.ErrInvalidModel,
	}
	for name, err := range sentinels {
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "phases: "), "%s: %q", name, err)
		assert.NotContains(t, reflect.TypeOf(err).String(), "fsm.", name)
		assert.Nil(t, errors.Unwrap(err), "%s wraps nothing", name)
		assertNoFSMError(t, err)
	}
	// Each sentinel is distinct, so branching on one never matches another
	// by accident.
	for a, errA := range sentinels {
		for b, errB := range sentinels {
			if a != b {
				assert.NotErrorIs(t, errA, errB, "%s is %s", a, b)
			}
		}
	}
}
