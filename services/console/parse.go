package console

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDepth bounds the nesting of table literals in call arguments.
const maxDepth = 16

// parseLine splits a console line into a command and its arguments.
// Words are separated by blanks (spaces, tabs) and, outside quotes and
// braces, by commas, so `call x add 1, 2` reads as `call x add 1 2`. A
// quoted string ("..." or '...', with backslash escapes) and a braced
// table literal ({...}, nesting, with quoted strings inside) are kept
// whole, quotes and braces included: each command reads its words (see
// word and parseLiteral). An empty or blank line is cmd "" and no error.
func parseLine(line string) (cmd string, args []string, err error) {
	line = strings.TrimRight(line, "\r\n")
	var words []string
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' || c == ',' || c == '\r' {
			i++
			continue
		}
		start := i
		depth := 0
		for i < len(line) {
			c = line[i]
			if depth == 0 && (c == ' ' || c == '\t' || c == ',' || c == '\r') {
				break
			}
			switch c {
			case '"', '\'':
				end, err := skipString(line, i)
				if err != nil {
					return "", nil, err
				}
				i = end
				continue
			case '{':
				depth++
				if depth > maxDepth {
					return "", nil, fmt.Errorf("tables nested deeper than %d", maxDepth)
				}
			case '}':
				if depth == 0 {
					return "", nil, fmt.Errorf("unbalanced '}' at column %d", i+1)
				}
				depth--
			default:
				if c < ' ' || c == 0x7f {
					return "", nil, fmt.Errorf("control character %q at column %d", c, i+1)
				}
			}
			i++
		}
		if depth > 0 {
			return "", nil, fmt.Errorf("unclosed '{' in %q", line[start:])
		}
		words = append(words, line[start:i])
	}
	if len(words) == 0 {
		return "", nil, nil
	}
	if len(words) == 1 {
		return words[0], nil, nil
	}
	return words[0], words[1:], nil
}

// skipString returns the index just past the quoted string starting at
// line[i].
func skipString(line string, i int) (int, error) {
	q := line[i]
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			j++
		case q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at column %d", i+1)
}

// word reads a plain argument (a name, an address, a script): a quoted
// word is unquoted, a table is refused.
func word(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty argument")
	}
	switch s[0] {
	case '"', '\'':
		v, err := parseLiteral(s)
		if err != nil {
			return "", err
		}
		str, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("bad argument %s", s)
		}
		return str, nil
	case '{':
		return "", fmt.Errorf("bad argument %s: a table where a name was expected", s)
	}
	return s, nil
}

// parseLiteral reads one Lua literal: nil, true, false, a number (decimal
// or 0x hex, integers as int64, others float64), a quoted string, or a
// table constructor of literals ({1, 2, x = 3, ["k"] = "v"}), as a []any
// when it has only an array part and a map[any]any otherwise. Nothing is
// evaluated: names other than table keys are refused.
func parseLiteral(s string) (any, error) {
	p := &litParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.blank()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("bad literal %s: unexpected %q at column %d", s, p.s[p.i:], p.i+1)
	}
	return v, nil
}

type litParser struct {
	s string
	i int
}

func (p *litParser) blank() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *litParser) errf(format string, a ...any) error {
	return fmt.Errorf("bad literal %s: %s", p.s, fmt.Sprintf(format, a...))
}

func (p *litParser) value(depth int) (any, error) {
	p.blank()
	if p.i >= len(p.s) {
		return nil, p.errf("a value is missing")
	}
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		return p.str()
	case c == '{':
		return p.table(depth + 1)
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return p.number()
	case isNameStart(c):
		n := p.name()
		switch n {
		case "nil":
			return nil, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, p.errf("%q is not a literal (quote strings)", n)
	default:
		return nil, p.errf("unexpected %q at column %d", c, p.i+1)
	}
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *litParser) name() string {
	start := p.i
	for p.i < len(p.s) && (isNameStart(p.s[p.i]) || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *litParser) number() (any, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == ';' {
			break
		}
		p.i++
	}
	t := p.s[start:p.i]
	neg := false
	u := t
	if u != "" && (u[0] == '-' || u[0] == '+') {
		neg = u[0] == '-'
		u = u[1:]
	}
	if len(u) > 2 && (u[:2] == "0x" || u[:2] == "0X") {
		n, err := strconv.ParseUint(u[2:], 16, 64)
		if err != nil {
			return nil, p.errf("bad number %q", t)
		}
		i := int64(n) // wraps, as Lua's hex integers do
		if neg {
			i = -i
		}
		return i, nil
	}
	if u == "" || strings.ContainsAny(u, "xX_") || strings.HasPrefix(u, "+") || strings.HasPrefix(u, "-") {
		return nil, p.errf("bad number %q", t)
	}
	if i, err := strconv.ParseInt(t, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, p.errf("bad number %q", t)
	}
	if math.IsInf(f, 0) {
		return nil, p.errf("number %q out of range", t)
	}
	if math.IsNaN(f) || strings.ContainsAny(u, "iInN") {
		return nil, p.errf("bad number %q", t)
	}
	return f, nil
}

func (p *litParser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\\':
			if p.i >= len(p.s) {
				return "", p.errf("unterminated string")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'v':
				b.WriteByte('\v')
			case '\\', '"', '\'':
				b.WriteByte(e)
			case 'x':
				if p.i+2 > len(p.s) {
					return "", p.errf("bad \\x escape")
				}
				n, err := strconv.ParseUint(p.s[p.i:p.i+2], 16, 8)
				if err != nil {
					return "", p.errf("bad \\x escape")
				}
				b.WriteByte(byte(n))
				p.i += 2
			default:
				if e >= '0' && e <= '9' {
					j := p.i - 1
					for p.i < len(p.s) && p.i-j < 3 && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
						p.i++
					}
					n, _ := strconv.Atoi(p.s[j:p.i])
					if n > 255 {
						return "", p.errf("decimal escape too large")
					}
					b.WriteByte(byte(n))
					continue
				}
				return "", p.errf("bad escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errf("unterminated string")
}

func (p *litParser) table(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errf("tables nested deeper than %d", maxDepth)
	}
	p.i++ // '{'
	var arr []any
	var hash map[any]any
	set := func(k, v any) {
		if hash == nil {
			hash = map[any]any{}
		}
		hash[k] = v
	}
	for {
		p.blank()
		if p.i >= len(p.s) {
			return nil, p.errf("unclosed '{'")
		}
		if p.s[p.i] == '}' {
			p.i++
			break
		}
		switch c := p.s[p.i]; {
		case c == '[':
			p.i++
			k, err := p.value(depth)
			if err != nil {
				return nil, err
			}
			p.blank()
			if p.i >= len(p.s) || p.s[p.i] != ']' {
				return nil, p.errf("']' expected at column %d", p.i+1)
			}
			p.i++
			if err := p.expect('='); err != nil {
				return nil, err
			}
			v, err := p.value(depth)
			if err != nil {
				return nil, err
			}
			switch kk := k.(type) {
			case nil:
				return nil, p.errf("a table key is nil")
			case []any, map[any]any:
				return nil, p.errf("a table key is a table")
			case float64:
				if kk == math.Trunc(kk) && math.Abs(kk) < 1<<53 {
					k = int64(kk)
				}
			}
			if v != nil {
				set(k, v)
			}
		case isNameStart(c):
			save := p.i
			n := p.name()
			p.blank()
			if p.i < len(p.s) && p.s[p.i] == '=' {
				p.i++
				v, err := p.value(depth)
				if err != nil {
					return nil, err
				}
				if v != nil {
					set(n, v)
				}
				break
			}
			p.i = save
			fallthrough
		default:
			v, err := p.value(depth)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		p.blank()
		if p.i < len(p.s) && (p.s[p.i] == ',' || p.s[p.i] == ';') {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			continue
		}
		return nil, p.errf("',' or '}' expected at column %d", p.i+1)
	}
	if hash == nil {
		if arr == nil {
			return map[any]any{}, nil
		}
		return arr, nil
	}
	for i, v := range arr {
		if v != nil {
			hash[int64(i+1)] = v
		}
	}
	return hash, nil
}

func (p *litParser) expect(c byte) error {
	p.blank()
	if p.i >= len(p.s) || p.s[p.i] != c {
		return p.errf("'%c' expected at column %d", c, p.i+1)
	}
	p.i++
	return nil
}

// format prints a Go value from a call's results the way Lua would read
// it back: strings quoted, tables as constructors with sorted keys.
func format(v any) string {
	var b strings.Builder
	formatTo(&b, v, 0)
	return b.String()
}

func formatTo(b *strings.Builder, v any, depth int) {
	if depth > 32 {
		b.WriteString("{...}")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case string:
		quote(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case math.IsInf(x, 1):
			b.WriteString("math.huge")
		case math.IsInf(x, -1):
			b.WriteString("-math.huge")
		default:
			s := strconv.FormatFloat(x, 'g', -1, 64)
			if !strings.ContainsAny(s, ".eEn") {
				s += ".0"
			}
			b.WriteString(s)
		}
	case []any:
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			formatTo(b, e, depth+1)
		}
		b.WriteByte('}')
	case map[string]any:
		m := make(map[any]any, len(x))
		for k, e := range x {
			m[k] = e
		}
		formatTo(b, m, depth)
	case map[any]any:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			if s, ok := k.(string); ok && isName(s) {
				b.WriteString(s)
			} else {
				b.WriteByte('[')
				formatTo(b, k, depth+1)
				b.WriteByte(']')
			}
			b.WriteString(" = ")
			formatTo(b, x[k], depth+1)
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// quote writes s as a Lua string literal on one line: printable UTF-8
// as it is, other bytes as decimal escapes (\ddd, as Lua 5.1 reads them).
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && n <= 1, !unicode.IsPrint(r):
			for j := i; j < i+n; j++ {
				fmt.Fprintf(b, "\\%03d", s[j])
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('"')
}

// keyLess orders table keys: numbers, then strings, then the rest.
func keyLess(a, b any) bool {
	rank := func(v any) int {
		switch v.(type) {
		case int64, float64:
			return 0
		case string:
			return 1
		}
		return 2
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra < rb
	}
	switch ra {
	case 0:
		return num(a) < num(b)
	case 1:
		return a.(string) < b.(string)
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

func num(v any) float64 {
	if i, ok := v.(int64); ok {
		return float64(i)
	}
	return v.(float64)
}

var luaKeywords = map[string]bool{"and": true, "break": true, "do": true, "else": true, "elseif": true,
	"end": true, "false": true, "for": true, "function": true, "goto": true, "if": true, "in": true,
	"local": true, "nil": true, "not": true, "or": true, "repeat": true, "return": true, "then": true,
	"true": true, "until": true, "while": true}

func isName(s string) bool {
	if s == "" || !isNameStart(s[0]) || luaKeywords[s] {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isNameStart(c) && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
