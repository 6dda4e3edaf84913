package proto_test

import (
	"bytes"
	"math/rand"
	"testing"

	"google.golang.org/protobuf/proto"

	ternpb "github.com/tern-dev/tern/proto"
)

// controlOps returns one Control per oneof case, each with non-zero fields so
// that a lossy round trip would be noticed.
func controlOps() map[string]*ternpb.Control {
	return map[string]*ternpb.Control{
		"shutdown": {Op: &ternpb.Control_Shutdown{Shutdown: &ternpb.Shutdown{
			Reason: "node draining", DeadlineUnixMs: 1_700_000_000_123,
		}}},
		"shutdown_done": {Op: &ternpb.Control_ShutdownDone{ShutdownDone: &ternpb.ShutdownDone{
			Addr: 0x0100_0000_0000_002a, Name: ".gate", Error: "timeout waiting for sessions",
		}}},
		"reload": {Op: &ternpb.Control_Reload{Reload: &ternpb.Reload{Script: "services/gate.lua"}}},
		"stat":   {Op: &ternpb.Control_Stat{Stat: &ternpb.Stat{}}},
		"stat_reply": {Op: &ternpb.Control_StatReply{StatReply: &ternpb.StatReply{
			Addr: 42, Name: ".db", Script: "services/db.lua", State: "running",
			StartedUnixMs: 1_700_000_000_000, Messages: 1 << 40, Mailbox: 17,
			Tasks: 3, HeapBytes: 5 << 20,
		}}},
		"stop": {Op: &ternpb.Control_Stop{Stop: &ternpb.Stop{Reason: "killed by admin"}}},
	}
}

// opName reports which oneof case is set, independently of the map key.
func opName(t *testing.T, c *ternpb.Control) string {
	t.Helper()
	switch c.GetOp().(type) {
	case *ternpb.Control_Shutdown:
		return "shutdown"
	case *ternpb.Control_ShutdownDone:
		return "shutdown_done"
	case *ternpb.Control_Reload:
		return "reload"
	case *ternpb.Control_Stat:
		return "stat"
	case *ternpb.Control_StatReply:
		return "stat_reply"
	case *ternpb.Control_Stop:
		return "stop"
	case nil:
		return "<nil>"
	default:
		t.Fatalf("unknown Control op %T", c.GetOp())
		return ""
	}
}

func roundTrip(t *testing.T, in *ternpb.Envelope) *ternpb.Envelope {
	t.Helper()
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	out := &ternpb.Envelope{}
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !proto.Equal(in, out) {
		t.Fatalf("round trip mismatch:\n in: %v\nout: %v", in, out)
	}
	return out
}

func TestEnvelopeRoundTripControl(t *testing.T) {
	ops := controlOps()
	if len(ops) != 6 {
		t.Fatalf("expected 6 control ops, have %d", len(ops))
	}
	for name, ctl := range ops {
		t.Run(name, func(t *testing.T) {
			in := &ternpb.Envelope{
				Kind:    ternpb.Kind_KIND_CONTROL,
				From:    1,
				To:      0x0200_0000_0000_0007,
				Session: 99,
				Control: ctl,
			}
			out := roundTrip(t, in)
			if out.GetKind() != ternpb.Kind_KIND_CONTROL {
				t.Errorf("kind = %v, want KIND_CONTROL", out.GetKind())
			}
			if got := opName(t, out.GetControl()); got != name {
				t.Errorf("op after round trip = %s, want %s", got, name)
			}
		})
	}
}

func TestEnvelopeRoundTripMessages(t *testing.T) {
	data := []byte{0x00, 0x01, 0xfe, 0xff, 'l', 'u', 'a'} // opaque packed values
	for _, tc := range []struct {
		name string
		in   *ternpb.Envelope
	}{
		{"send", &ternpb.Envelope{Kind: ternpb.Kind_KIND_SEND, From: 3, To: 4, Cmd: "ping", Data: data}},
		{"call", &ternpb.Envelope{Kind: ternpb.Kind_KIND_CALL, From: 3, To: 4, Session: 1<<32 - 1, Cmd: "get", Data: data}},
		{"reply", &ternpb.Envelope{Kind: ternpb.Kind_KIND_REPLY, From: 4, To: 3, Session: 7, Data: data}},
		{"error", &ternpb.Envelope{Kind: ternpb.Kind_KIND_ERROR, From: 4, To: 3, Session: 7, Error: "no such key"}},
		{"empty", &ternpb.Envelope{}}, // all defaults: encodes to zero bytes
	} {
		in := tc.in
		t.Run(tc.name, func(t *testing.T) {
			out := roundTrip(t, in)
			if !bytes.Equal(out.GetData(), in.GetData()) {
				t.Errorf("data = %x, want %x", out.GetData(), in.GetData())
			}
			if out.GetControl() != nil {
				t.Errorf("control = %v, want nil", out.GetControl())
			}
		})
	}
}

// TestEnvelopeUnmarshalTruncated cuts a valid encoding at every length. No
// prefix may panic, and every cut that falls inside the trailing Control field
// (tag, length or payload) must be reported as an error.
func TestEnvelopeUnmarshalTruncated(t *testing.T) {
	opts := proto.MarshalOptions{Deterministic: true}
	for name, ctl := range controlOps() {
		t.Run(name, func(t *testing.T) {
			head := &ternpb.Envelope{
				Kind: ternpb.Kind_KIND_CONTROL, From: 1, To: 2, Session: 3,
				Cmd: "admin", Data: []byte("xyz"), Error: "e",
			}
			base, err := opts.Marshal(head)
			if err != nil {
				t.Fatal(err)
			}
			full := proto.Clone(head).(*ternpb.Envelope)
			full.Control = ctl
			b, err := opts.Marshal(full)
			if err != nil {
				t.Fatal(err)
			}
			// Field 8 is the highest-numbered field, so it is encoded last.
			if !bytes.HasPrefix(b, base) || len(b) <= len(base)+1 {
				t.Fatalf("unexpected encoding layout: base=%x full=%x", base, b)
			}
			for n := 0; n < len(b); n++ {
				err := proto.Unmarshal(b[:n], &ternpb.Envelope{})
				if n > len(base) && err == nil {
					t.Errorf("Unmarshal(prefix %d/%d of %x) = nil error, want error", n, len(b), b)
				}
			}
		})
	}
}

func TestEnvelopeUnmarshalGarbage(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"field number zero", []byte{0x00}},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11)},
		{"unterminated varint", []byte{0x08, 0x80}},
		{"invalid wire type 6", []byte{0x0e}},
		{"invalid wire type 7", []byte{0x0f}},
		{"stray end group", []byte{0x0c}},
		{"unterminated start group", []byte{0x0b}},
		{"bytes length past end", []byte{0x32, 0x05, 0x01}},
		{"control length past end", []byte{0x42, 0x7f}},
		{"nested shutdown truncated", []byte{0x42, 0x02, 0x0a, 0x7f}},
		{"invalid utf-8 in cmd", []byte{0x2a, 0x01, 0xff}},
		{"invalid utf-8 in nested reason", []byte{0x42, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xc3}},
		{"fixed64 truncated", []byte{0x09, 0x01, 0x02}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := proto.Unmarshal(tc.b, &ternpb.Envelope{}); err == nil {
				t.Errorf("Unmarshal(%x) = nil error, want error", tc.b)
			}
		})
	}
}

// TestEnvelopeUnmarshalRandom feeds random buffers; errors are expected and
// fine, panics are not (a panic fails the test on its own).
func TestEnvelopeUnmarshalRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	buf := make([]byte, 256)
	for i := 0; i < 20000; i++ {
		b := buf[:r.Intn(len(buf))]
		r.Read(b)
		_ = proto.Unmarshal(b, &ternpb.Envelope{})
	}
}

// FuzzEnvelopeUnmarshal checks that arbitrary input never panics and that
// anything which does decode re-encodes to an equivalent message.
// Run with: go test ./proto/ -fuzz FuzzEnvelopeUnmarshal
func FuzzEnvelopeUnmarshal(f *testing.F) {
	for _, ctl := range controlOps() {
		b, err := proto.Marshal(&ternpb.Envelope{Kind: ternpb.Kind_KIND_CONTROL, To: 9, Control: ctl})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x42, 0x02, 0x0a, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var env ternpb.Envelope
		if err := proto.Unmarshal(b, &env); err != nil {
			return
		}
		again, err := proto.Marshal(&env)
		if err != nil {
			t.Fatalf("Marshal of decoded message: %v", err)
		}
		var env2 ternpb.Envelope
		if err := proto.Unmarshal(again, &env2); err != nil {
			t.Fatalf("Unmarshal of re-encoded message: %v", err)
		}
		if !proto.Equal(&env, &env2) {
			t.Fatalf("re-encode mismatch: %v vs %v", &env, &env2)
		}
	})
}
