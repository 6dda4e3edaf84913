package console

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		cmd  string
		args []string
		err  string
	}{
		{line: "", cmd: ""},
		{line: "  \t \r\n", cmd: ""},
		{line: "list\n", cmd: "list"},
		{line: "list\r\n", cmd: "list"},
		{line: "info  echo ", cmd: "info", args: []string{"echo"}},
		{line: "call x add 1, 2", cmd: "call", args: []string{"x", "add", "1", "2"}},
		{line: `call x echo "a b" 'c d'`, cmd: "call", args: []string{"x", "echo", `"a b"`, `'c d'`}},
		{line: `call x echo "a \" b"`, cmd: "call", args: []string{"x", "echo", `"a \" b"`}},
		{line: `call x echo {1, "}", {x = 2}} y`, cmd: "call", args: []string{"x", "echo", `{1, "}", {x = 2}}`, "y"}},
		{line: `call x echo a"b c"d`, cmd: "call", args: []string{"x", "echo", `a"b c"d`}},
		{line: `call x "unterminated`, err: "unterminated string"},
		{line: `call x {1, 2`, err: "unclosed '{'"},
		{line: `call x }`, err: "unbalanced '}'"},
		{line: "call x \x00", err: "control character"},
		{line: "call " + strings.Repeat("{", maxDepth+1) + strings.Repeat("}", maxDepth+1), err: "nested deeper"},
	} {
		cmd, args, err := parseLine(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseLine(%q): err %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || cmd != tc.cmd || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("parseLine(%q) = %q, %q, %v; want %q, %q", tc.line, cmd, args, err, tc.cmd, tc.args)
		}
	}
}

func TestParseLiteral(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
		err  string
	}{
		{in: "nil", want: nil},
		{in: "true", want: true},
		{in: "false", want: false},
		{in: "42", want: int64(42)},
		{in: "-42", want: int64(-42)},
		{in: "+3", want: int64(3)},
		{in: "0x1F", want: int64(31)},
		{in: "-0x10", want: int64(-16)},
		{in: "2.5", want: 2.5},
		{in: "1e3", want: 1000.0},
		{in: ".5", want: 0.5},
		{in: "99999999999999999999", want: 1e20},
		{in: `"a\tb\65\x41\\"`, want: "a\tbAA\\"},
		{in: `'it''s'`, err: "unexpected"},
		{in: `""`, want: ""},
		{in: "{}", want: map[any]any{}},
		{in: "{1, 'a', true}", want: []any{int64(1), "a", true}},
		{in: "{x = 1; y = {2}}", want: map[any]any{"x": int64(1), "y": []any{int64(2)}}},
		{in: "{1, [2.0] = 'b', [\"k\"] = nil}", want: map[any]any{int64(1): int64(1), int64(2): "b"}},
		{in: "{1, x = 2}", want: map[any]any{int64(1): int64(1), "x": int64(2)}},
		{in: "{1,}", want: []any{int64(1)}},
		{in: "x", err: "is not a literal"},
		{in: "os.exit()", err: "not a literal"},
		{in: "inf", err: "not a literal"},
		{in: "nan", err: "not a literal"},
		{in: "1_000", err: "bad number"},
		{in: "1e999", err: "out of range"},
		{in: "--1", err: "bad number"},
		{in: "1 2", err: "unexpected"},
		{in: "{[nil] = 1}", err: "key is nil"},
		{in: "{[{}] = 1}", err: "key is a table"},
		{in: "{1 2}", err: "expected"},
		{in: "{", err: "unclosed"},
		{in: `"\q"`, err: "bad escape"},
		{in: `"\300"`, err: "too large"},
		{in: "", err: "missing"},
		{in: strings.Repeat("{", maxDepth+1) + strings.Repeat("}", maxDepth+1), err: "nested deeper"},
	} {
		got, err := parseLiteral(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseLiteral(%q): %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseLiteral(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

// TestFormatReadsBack: what call prints parses back to the same value.
func TestFormatReadsBack(t *testing.T) {
	for _, v := range []any{nil, true, int64(-3), 2.5, 3.0, "a\"b\n", []any{int64(1), "x"},
		map[any]any{"x": int64(1), int64(1): "y", "end": true, "a b": []any{false}}} {
		s := format(v)
		back, err := parseLiteral(s)
		if err != nil || !reflect.DeepEqual(back, v) {
			t.Errorf("format(%#v) = %s, reads back as %#v, %v", v, s, back, err)
		}
	}
	if got := format(map[string]any{"b": int64(2), "a": int64(1)}); got != "{a = 1, b = 2}" {
		t.Errorf("format of a map[string]any: %s", got)
	}
}

// FuzzParseLine: parseLine never panics, finds no empty word, and its
// words joined by spaces parse back to the same command and words; a
// word parseLiteral accepts is a value format prints back readably.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"", "help", "info echo", "call x add 1, 2", `call x echo "a b" 'c' {1, {x = "}"}}`,
		`call x "unterminated`, "call x {1, 2", "}", "\x00", `a"b c"d`, `call x echo "\x41\65\\"`,
		"call x echo 0x10 -1.5e3 nil true {[1]=2;}", strings.Repeat("{", 20),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, args, err := parseLine(line)
		if err != nil {
			return
		}
		if cmd == "" {
			if len(args) != 0 {
				t.Fatalf("no command but args %q", args)
			}
			return
		}
		words := append([]string{cmd}, args...)
		for _, w := range words {
			if w == "" {
				t.Fatalf("empty word in %q", words)
			}
		}
		cmd2, args2, err := parseLine(strings.Join(words, " "))
		if err != nil || cmd2 != cmd || !reflect.DeepEqual(args2, args) {
			t.Fatalf("%q: words %q; joined they parse as %q %q, %v", line, words, cmd2, args2, err)
		}
		for _, w := range args {
			v, err := parseLiteral(w)
			if err != nil {
				continue
			}
			back, err := parseLiteral(format(v))
			if err != nil || !reflect.DeepEqual(back, v) {
				t.Fatalf("%q: literal %#v formats as %s, reads back as %#v, %v", w, v, format(v), back, err)
			}
		}
	})
}
