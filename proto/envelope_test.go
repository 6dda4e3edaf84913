package proto_test

import (
	"bytes"
	"math/rand"
	"testing"

	"google.golang.org/protobuf/proto"

	ternpb "github.com/tern-dev/tern/proto"
)

// shutdowns returns Shutdown requests with non-zero fields, so that a lossy
// round trip would be noticed.
func shutdowns() map[string]*ternpb.Shutdown {
	return map[string]*ternpb.Shutdown{
		"draining": {Reason: "node draining", DeadlineUnixMs: 1_700_000_000_123},
		"code":     {Reason: "tern.shutdown", Code: 255},
		"negative": {DeadlineUnixMs: -1, Code: -1},
		"empty":    {}, // encodes to zero bytes inside the envelope's field
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
	for name, sd := range shutdowns() {
		t.Run(name, func(t *testing.T) {
			in := &ternpb.Envelope{
				Kind:     ternpb.Kind_KIND_CONTROL,
				From:     1,
				To:       0x0200_0000_0000_0007,
				Session:  99,
				Shutdown: sd,
			}
			out := roundTrip(t, in)
			if out.GetKind() != ternpb.Kind_KIND_CONTROL {
				t.Errorf("kind = %v, want KIND_CONTROL", out.GetKind())
			}
			if out.GetShutdown() == nil {
				t.Errorf("shutdown lost in the round trip")
			}
		})
	}
}

// TestEnvelopeReservedControl decodes field 8, the dropped Control wrapper,
// as an unknown field: an old encoding still parses, carries no Shutdown,
// and keeps the bytes for re-encoding.
func TestEnvelopeReservedControl(t *testing.T) {
	old := []byte{0x08, 0x04, 0x42, 0x04, 0x0a, 0x02, 0x18, 0x03} // kind: CONTROL, control: {shutdown: {code: 3}}
	var env ternpb.Envelope
	if err := proto.Unmarshal(old, &env); err != nil {
		t.Fatalf("Unmarshal(%x): %v", old, err)
	}
	if env.GetKind() != ternpb.Kind_KIND_CONTROL || env.GetShutdown() != nil {
		t.Errorf("decoded %v, want kind CONTROL and no shutdown", &env)
	}
	if got := env.ProtoReflect().GetUnknown(); !bytes.Equal(got, old[2:]) {
		t.Errorf("unknown bytes = %x, want %x", got, old[2:])
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
			if out.GetShutdown() != nil {
				t.Errorf("shutdown = %v, want nil", out.GetShutdown())
			}
		})
	}
}

// TestEnvelopeUnmarshalTruncated cuts a valid encoding at every length. No
// prefix may panic, and every cut that falls inside the trailing Shutdown
// field (tag, length or payload) must be reported as an error.
func TestEnvelopeUnmarshalTruncated(t *testing.T) {
	opts := proto.MarshalOptions{Deterministic: true}
	for name, sd := range shutdowns() {
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
			full.Shutdown = sd
			b, err := opts.Marshal(full)
			if err != nil {
				t.Fatal(err)
			}
			// Field 9 is the highest-numbered field, so it is encoded last.
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
		{"shutdown length past end", []byte{0x4a, 0x7f}},
		{"reserved control length past end", []byte{0x42, 0x7f}},
		{"nested reason truncated", []byte{0x4a, 0x02, 0x0a, 0x7f}},
		{"invalid utf-8 in cmd", []byte{0x2a, 0x01, 0xff}},
		{"invalid utf-8 in nested reason", []byte{0x4a, 0x03, 0x0a, 0x01, 0xc3}},
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
	for _, sd := range shutdowns() {
		b, err := proto.Marshal(&ternpb.Envelope{Kind: ternpb.Kind_KIND_CONTROL, To: 9, Shutdown: sd})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x4a, 0x02, 0x0a, 0x7f})
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
