package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// DefaultConsole is where `tern console` connects without an address.
const DefaultConsole = "127.0.0.1:8701"

// consoleClient is `tern console [ADDR]`: a client of the debug console.
// On a terminal it has line editing and history (x/term); otherwise it
// reads commands line by line from stdin, as nc would. It returns the exit
// code: 1 if it cannot connect or the last command failed.
func consoleClient(addr string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		fmt.Fprintln(stderr, "tern console:", err)
		return 1
	}
	defer c.Close()
	replies := bufio.NewReader(c)
	// run sends one command and copies its reply up to the end marker.
	run := func(line string, out io.Writer) (ok bool, err error) {
		if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
			return false, err
		}
		for {
			l, err := replies.ReadString('\n')
			if err != nil {
				return false, err
			}
			switch strings.TrimRight(l, "\r\n") {
			case "<CMD OK>":
				return true, nil
			case "<CMD Error>":
				return false, nil
			}
			io.WriteString(out, l)
		}
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return interactive(f, run)
	}
	code := 0
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 64<<10)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		ok, err := run(line, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "tern console:", err)
			return 1
		}
		code = 0
		if !ok {
			code = 1
		}
	}
	return code
}

// interactive reads commands with line editing and history until EOF
// (Ctrl-D) or "quit".
func interactive(f *os.File, run func(string, io.Writer) (bool, error)) int {
	old, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "tern console:", err)
		return 1
	}
	defer term.Restore(int(f.Fd()), old)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{f, os.Stdout}, "tern> ")
	for {
		line, err := t.ReadLine()
		if err != nil { // io.EOF: Ctrl-D
			return 0
		}
		line = strings.TrimSpace(line)
		switch line {
		case "":
			continue
		case "quit", "exit":
			return 0
		}
		ok, err := run(line, t)
		if err != nil {
			fmt.Fprintln(t, "connection lost:", err)
			return 1
		}
		if !ok {
			fmt.Fprintln(t, "(error)")
		}
	}
}
