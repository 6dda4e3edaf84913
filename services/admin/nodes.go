package admin

import "net/http"

// Node is a node of the cluster as GET /nodes shows it (actor.NodeInfo).
type Node struct {
	Name     string `json:"name"`
	Number   uint16 `json:"number"`  // the node part of its services' addresses
	Address  string `json:"address"` // advertised host:port
	Self     bool   `json:"self"`
	Up       bool   `json:"up"`
	Sent     uint64 `json:"sent"`     // messages sent to it
	Received uint64 `json:"received"` // messages received from it
	Dropped  uint64 `json:"dropped"`  // messages to it dropped (sent while it was down)
	Failed   uint64 `json:"failed"`   // calls to it that failed for the node (down, timed out)
}

// nodes answers GET /nodes: the cluster's nodes, this one first; [] when
// the runtime is in no cluster.
func (s *Server) nodes(w http.ResponseWriter, _ *http.Request) {
	ns := s.rt.Nodes()
	out := make([]Node, 0, len(ns))
	for _, n := range ns {
		out = append(out, Node{Name: n.Name, Number: n.Number, Address: n.Address, Self: n.Self, Up: n.Up,
			Sent: n.Sent, Received: n.Received, Dropped: n.Dropped, Failed: n.Failed})
	}
	writeJSON(w, http.StatusOK, out)
}
