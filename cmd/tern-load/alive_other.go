//go:build !unix

package main

import "net"

// connAlive cannot peek here: it says true.
func connAlive(c net.Conn) bool { return true }
