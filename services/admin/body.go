package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
)

// CreateRequest is the body of POST /services.
type CreateRequest struct {
	Name   string `json:"name"`
	Script string `json:"script"`
	Args   []any  `json:"args"`
}

// ReloadScriptRequest is the body of POST /scripts/reload.
type ReloadScriptRequest struct {
	Script string `json:"script"`
}

// badRequest is an error that answers 400.
type badRequest struct{ err error }

func (e badRequest) Error() string { return e.err.Error() }
func (e badRequest) Unwrap() error { return e.err }

func bad(format string, args ...any) error {
	return badRequest{fmt.Errorf(format, args...)}
}

// decode reads one JSON object from body into v: no unknown fields, no
// trailing data, at most MaxBody bytes.
func decode(body io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(body, MaxBody+1))
	if err != nil {
		return bad("admin: reading the body: %v", err)
	}
	if len(data) > MaxBody {
		return bad("admin: the body is over %d bytes", MaxBody)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return bad("admin: malformed body: %v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return bad("admin: malformed body: data after the JSON object")
	}
	return nil
}

// DecodeCreate reads and checks the body of POST /services: a valid
// script name, and args of JSON values (numbers become int64 when whole
// and in range, else float64).
func DecodeCreate(body io.Reader) (CreateRequest, error) {
	var req CreateRequest
	if err := decode(body, &req); err != nil {
		return CreateRequest{}, err
	}
	if req.Name == "" {
		return CreateRequest{}, bad("admin: create: name is missing")
	}
	if err := CheckScript(req.Script); err != nil {
		return CreateRequest{}, err
	}
	for i, a := range req.Args {
		v, err := value(a, 0)
		if err != nil {
			return CreateRequest{}, bad("admin: create: args[%d]: %v", i+1, err)
		}
		req.Args[i] = v
	}
	return req, nil
}

// maxDepth bounds the nesting of args.
const maxDepth = 64

// value maps a decoded JSON value (with json.Number) to one the runtime
// packs.
func value(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("number %s out of range", t)
		}
		return f, nil
	case []any:
		for i := range t {
			x, err := value(t[i], depth+1)
			if err != nil {
				return nil, err
			}
			t[i] = x
		}
		return t, nil
	case map[string]any:
		for k, x := range t {
			y, err := value(x, depth+1)
			if err != nil {
				return nil, err
			}
			t[k] = y
		}
		return t, nil
	}
	return v, nil
}

// CheckScript refuses script names that could reach outside the path:
// empty, absolute, or with a ".." element. Scripts are looked up along
// the runtime's path only, as newservice looks them up.
func CheckScript(script string) error {
	switch {
	case script == "":
		return bad("admin: script is missing")
	case strings.ContainsRune(script, 0):
		return bad("admin: bad script name %q: a NUL byte", script)
	case filepath.IsAbs(script) || strings.HasPrefix(script, "/") || strings.HasPrefix(script, `\`) || filepath.VolumeName(script) != "" || strings.Contains(script, ":"):
		return bad("admin: bad script name %q: an absolute path (scripts are found along the path)", script)
	}
	for _, el := range strings.FieldsFunc(script, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			return bad("admin: bad script name %q: a \"..\" element (scripts are found along the path)", script)
		}
	}
	return nil
}
