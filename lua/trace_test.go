package lua_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
)

// A traced request's tag follows it down a chain of calls and sends, and
// each hop is logged with it; an untraced request logs nothing.
func TestTraceFollowsTheRequest(t *testing.T) {
	e := newEnv(t)
	c := e.launch(t, "tracer")
	b := e.launch(t, "tracer", c)
	a := e.launch(t, "tracer", b)
	if res := e.call(t, a, "hop"); res[0] != int64(3) {
		t.Fatalf("hop: %v", res)
	}
	if strings.Contains(e.log.String(), "msg=trace") {
		t.Fatalf("an untraced request logged trace lines:\n%s", e.log)
	}
	if res := e.call(t, a, "start", "T1"); res[0] != int64(3) {
		t.Fatalf("start: %v", res)
	}
	log := e.log.String()
	for _, want := range []string{
		`tag=T1 hop=start cmd=start`,
		`tag=T1 hop=call to=` + b.String() + ` cmd=hop`,
		`tag=T1 hop=send to=` + b.String() + ` cmd=note`,
		`tag=T1 hop=recv from=` + a.String() + ` cmd=hop kind=call`,
		`tag=T1 hop=recv from=` + a.String() + ` cmd=note kind=send`,
		`tag=T1 hop=recv from=` + b.String() + ` cmd=hop kind=call`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("no %q in the log", want)
		}
	}
	answers := regexp.MustCompile(`tag=T1 hop=answer to=:\w+ cmd=hop outcome=reply took=\S+`).FindAllString(log, -1)
	if len(answers) != 2 {
		t.Errorf("want 2 answers (a<-b, b<-c), got %q", answers)
	}

	// From Go: actor.WithTrace.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.sys.Call(actor.WithTrace(ctx, "T2"), b, "hop"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.log.String(), `tag=T2 hop=recv from=:00000000 cmd=hop kind=call`) {
		t.Errorf("no hop for the call from Go:\n%s", e.log)
	}
}
