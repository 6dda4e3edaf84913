package actor

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Go services may exchange their own protobuf messages, on one node or
// across nodes, as two arguments of an ordinary message: the message's
// full type name, then its wire bytes. They travel inside tern's one
// Envelope type like any other values (a Lua service sees two strings and
// may pass them on), so a node never receives a protobuf type it does not
// know at the transport: the receiving service decodes with ProtoArg, and
// a type its binary does not link is an error naming the type, not a
// crash.

// ProtoArgs packs m as the two arguments ProtoArg reads back:
//
//	c.Send(to, "move", actor.ProtoArgs(m)...)
func ProtoArgs(m proto.Message) []any {
	b, err := proto.Marshal(m)
	if err != nil {
		// Marshal fails only for a message missing required fields
		// (proto2); the receiver reports the empty bytes' error.
		b = nil
	}
	return []any{string(m.ProtoReflect().Descriptor().FullName()), b}
}

// ProtoArg reads the protobuf message ProtoArgs packed at args[i] (type
// name) and args[i+1] (bytes). The type must be linked into this binary
// (registered in protoregistry.GlobalTypes): an unknown type, a missing
// or mistyped argument, or bytes that do not parse are errors that say
// which.
func ProtoArg(args []any, i int) (proto.Message, error) {
	if i < 0 || i+1 >= len(args) {
		return nil, fmt.Errorf("actor: protobuf argument %d: want a type name and its bytes, got %d arguments", i+1, len(args))
	}
	name, ok := args[i].(string)
	if !ok {
		return nil, fmt.Errorf("actor: protobuf argument %d: the type name is a %T, want a string", i+1, args[i])
	}
	var data []byte
	switch b := args[i+1].(type) {
	case []byte:
		data = b
	case string:
		data = []byte(b)
	case nil:
	default:
		return nil, fmt.Errorf("actor: protobuf argument %d (%s): the bytes are a %T, want a string", i+2, name, args[i+1])
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("actor: protobuf argument %d: type %q is unknown to this node (not linked into its binary): %w", i+1, name, err)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("actor: protobuf argument %d: bad %s: %w", i+2, name, err)
	}
	return m, nil
}
