package admin

import (
	"errors"
	"strings"
	"testing"

	"github.com/tern-dev/tern/internal/pack"
)

// FuzzCreateBody: the POST /services body decoder never panics, refuses
// only with a 400, and what it accepts is a named service, a script
// inside the path, and args the runtime can pack. The seeds run as a
// normal test.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []string{
		`{"name":"w","script":"worker","args":["w"]}`,
		`{"name":"w","script":"worker.lua","args":[1,2.5,true,null,[1,"x"],{"k":{"n":3}}]}`,
		`{"name":"w","script":"sub/x"}`,
		`{"name":"w","script":"../x"}`,
		`{"name":"w","script":"/etc/passwd"}`,
		`{"name":"w","script":"a\\..\\b"}`,
		`{"name":"w","script":"w","args":[1e999]}`,
		`{"name":"w","script":"w","args":[-9223372036854775809]}`,
		`{"name":"w","script":"w","bogus":1}`,
		`{"name":"w","script":"w"} {}`,
		`{"name":"w","script":"w","args":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}`,
		``, `{`, `null`, `[]`, `"x"`, `{"args":{}}`, "{\"name\":\"\x00\",\"script\":\"x\x00\"}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := DecodeCreate(strings.NewReader(body))
		if err != nil {
			var br badRequest
			if !errors.As(err, &br) || status(err) != 400 {
				t.Fatalf("refusal not a 400: %v", err)
			}
			return
		}
		if req.Name == "" {
			t.Fatal("accepted without a name")
		}
		if err := CheckScript(req.Script); err != nil {
			t.Fatalf("accepted script %q: %v", req.Script, err)
		}
		for _, el := range strings.FieldsFunc(req.Script, func(r rune) bool { return r == '/' || r == '\\' }) {
			if el == ".." {
				t.Fatalf("accepted a climbing script %q", req.Script)
			}
		}
		if strings.HasPrefix(req.Script, "/") || strings.HasPrefix(req.Script, `\`) {
			t.Fatalf("accepted an absolute script %q", req.Script)
		}
		if _, err := pack.AppendValuesLimit(nil, 1<<30, req.Args...); err != nil {
			t.Fatalf("accepted args the runtime cannot pack: %v: %#v", err, req.Args)
		}
	})
}
