// Package ratelog rate-limits repeated log lines. A flood of one warning
// ("send to unknown name dropped", once per message) becomes the first
// line, then at most one line per interval carrying repeated=N, the count
// of lines suppressed since the line before. No count is lost: a window
// that ends with lines suppressed and no new line is reported by one timer
// shared by the whole limiter (there is no goroutine per key).
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults of a Limiter's zero value.
const (
	DefaultEvery   = time.Second
	DefaultMaxKeys = 1024
)

// Overflow is the message of the line reporting lines suppressed because
// the limiter tracked too many keys at once: suppressed=N of them, the
// last one's message in last.
const Overflow = "ratelog: lines suppressed: too many distinct repeated lines"

// Limiter decides which repeated lines are written. The zero value is
// ready to use, with DefaultEvery and DefaultMaxKeys. It is safe for
// concurrent use.
type Limiter struct {
	// Every is the least time between two lines of one key.
	Every time.Duration
	// MaxKeys bounds the keys tracked at once. Past it, the lines of new
	// keys share one overflow key, reported with the message Overflow.
	MaxKeys int

	mu    sync.Mutex
	keys  map[key]*entry
	over  entry // the overflow key
	timer *time.Timer
	due   time.Time // when timer fires; zero if it is not set
	now   func() time.Time
}

// key is a line's identity: its message and the caller's key (the
// attributes that tell lines apart, e.g. a service name).
type key struct{ msg, k string }

// entry is one key's window.
type entry struct {
	until time.Time // no line for the key before this
	n     uint64    // lines suppressed since the last line written
	// the last suppressed line, written with the count if the window
	// ends without another line
	log   *slog.Logger
	level slog.Level
	msg   string
	args  []any
	over  bool // the overflow line
}

// Attr is the attribute of a line that stands for more: the line, and
// repeated=N like it that were not written.
const Attr = "repeated"

// OverflowAttr counts the lines the Overflow line stands for.
const OverflowAttr = "suppressed"

// Warn is Log at slog.LevelWarn.
func (l *Limiter) Warn(log *slog.Logger, msg, k string, args ...any) {
	l.Log(log, slog.LevelWarn, msg, k, args...)
}

// Log writes msg with args at level to log, unless a line with the same
// msg and k was written less than Every ago: then it only counts it. When
// the window ends, the next line for them, or the last suppressed one if
// none comes, is written with repeated=N: it stands for itself and N
// suppressed lines. args must not change after the call.
func (l *Limiter) Log(log *slog.Logger, level slog.Level, msg, k string, args ...any) {
	if !log.Enabled(context.Background(), level) {
		return
	}
	n, ok, swept := l.allow(log, level, msg, k, args)
	write(swept)
	if !ok {
		return
	}
	if n > 0 {
		args = append(args[:len(args):len(args)], Attr, n)
	}
	log.Log(context.Background(), level, msg, args...)
}

// Allow reports whether a line for (msg, k) may be written now and, if so,
// how many were suppressed since the last one; the caller writes it,
// adding repeated=N when N > 0. A suppressed line is counted but, unlike
// with Log, not reported if its window ends without another line.
func (l *Limiter) Allow(msg, k string) (repeated uint64, ok bool) {
	n, ok, swept := l.allow(nil, 0, msg, k, nil)
	write(swept)
	return n, ok
}

// allow decides on one line, and returns the lines owed by windows it
// ended to make room for a new key.
func (l *Limiter) allow(log *slog.Logger, level slog.Level, msg, k string, args []any) (n uint64, ok bool, swept []entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if l.keys == nil {
		l.keys = make(map[key]*entry)
	}
	e := l.keys[key{msg, k}]
	if e == nil {
		if len(l.keys) >= l.maxKeys() {
			swept = l.sweep(now, nil)
		}
		if len(l.keys) >= l.maxKeys() {
			// Too many keys: count the line in the overflow key, which
			// is reported as soon as its own window allows.
			e = &l.over
			e.n++
			e.log, e.level, e.msg, e.args = log, level, msg, nil
			if e.until.Before(now) {
				e.until = now
			}
			if log != nil {
				l.schedule(e.until)
			}
			return 0, false, swept
		}
		l.keys[key{msg, k}] = &entry{until: now.Add(l.every())}
		return 0, true, swept
	}
	if now.Before(e.until) {
		e.n++
		e.log, e.level, e.msg, e.args = log, level, msg, args
		if log != nil {
			l.schedule(e.until)
		}
		return 0, false, nil
	}
	n = e.n
	*e = entry{until: now.Add(l.every())}
	return n, true, nil
}

// Flush writes, now, a line for every key with lines suppressed (as Log
// would at the end of their window), e.g. before the process exits.
func (l *Limiter) Flush() {
	l.mu.Lock()
	out := l.sweep(time.Time{}, nil)
	l.mu.Unlock()
	write(out)
}

// Len is the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// sweep ends the windows that are over at now (all of them if now is
// zero). A key with lines suppressed gets its line in out, and a new
// window from now, so that it writes at most one line per window; a key
// whose window ended with nothing suppressed is forgotten. Call with mu
// held.
func (l *Limiter) sweep(now time.Time, out []entry) []entry {
	all := now.IsZero()
	if all {
		now = l.clock()
	}
	next := now.Add(l.every())
	for k, e := range l.keys {
		switch {
		case !all && now.Before(e.until):
		case e.n > 0:
			if e.log != nil {
				out = append(out, *e)
			}
			*e = entry{until: next}
		default:
			delete(l.keys, k)
		}
	}
	if e := &l.over; e.n > 0 && (all || !now.Before(e.until)) {
		if e.log != nil {
			o := *e
			o.over = true
			out = append(out, o)
		}
		*e = entry{until: next}
	}
	return out
}

// schedule makes sure the timer fires no later than at. Call with mu held.
func (l *Limiter) schedule(at time.Time) {
	if !l.due.IsZero() && !at.Before(l.due) {
		return
	}
	l.due = at
	d := at.Sub(l.clock())
	if l.timer == nil {
		l.timer = time.AfterFunc(d, l.fire)
	} else {
		l.timer.Reset(d)
	}
}

// fire reports the windows that ended, and sets the timer again for those
// still open with lines suppressed.
func (l *Limiter) fire() {
	l.mu.Lock()
	now := l.clock()
	l.due = time.Time{}
	out := l.sweep(now, nil)
	for _, e := range l.keys {
		if e.n > 0 && e.log != nil {
			l.schedule(e.until)
		}
	}
	if l.over.n > 0 && l.over.log != nil {
		l.schedule(l.over.until)
	}
	l.mu.Unlock()
	write(out)
}

// write writes the lines sweep collected: the last suppressed line of a
// key, which stands for itself and repeated=N-1 others, or the overflow
// line, which stands for suppressed=N others.
func write(out []entry) {
	for _, e := range out {
		args := e.args[:len(e.args):len(e.args)]
		switch {
		case e.over:
			args = append(args, "last", e.msg, OverflowAttr, e.n)
			e.msg = Overflow
		case e.n > 1:
			args = append(args, Attr, e.n-1)
		}
		e.log.Log(context.Background(), e.level, e.msg, args...)
	}
}

func (l *Limiter) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

func (l *Limiter) every() time.Duration {
	if l.Every > 0 {
		return l.Every
	}
	return DefaultEvery
}

func (l *Limiter) maxKeys() int {
	if l.MaxKeys > 0 {
		return l.MaxKeys
	}
	return DefaultMaxKeys
}
