// Package proto holds tern's cross-process wire types, generated from
// tern.proto.
//
// Envelope is the single message type every tern node registers for remote
// delivery: it carries one service-to-service message (send, call, reply or
// error, with the payload in tern's own packed value format as opaque bytes)
// or one Shutdown request (KIND_CONTROL). These types are only for traffic
// that crosses a process boundary (protoactor-go remote, for the cluster);
// messages between actors in the same process pass Go pointers and never pay
// for protobuf encoding. Shutdown is also the control message the root sends
// its services in process (as a Go pointer, actor.Control).
//
// tern.pb.go is generated and committed. To regenerate it after editing
// tern.proto, run
//
//	go generate ./proto/
//
// which runs generate.sh. It requires protoc 3.21.12 (Debian 12:
// apt-get install protobuf-compiler) and installs the pinned
// google.golang.org/protobuf/cmd/protoc-gen-go v1.36.12 into a temporary
// GOBIN. bash proto/check.sh regenerates into a temporary directory and fails
// if the committed tern.pb.go differs.
package proto

//go:generate bash generate.sh
