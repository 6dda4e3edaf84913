package lua

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// protoCache compiles each script file once; every VM that runs it shares
// the FunctionProto. A new service's load recompiles when the file's size
// or modification time changes; a reload reads the file and compares its
// content (fresh), since two saves within the clock's granularity with
// the same length look alike by size and time.
type protoCache struct {
	mu sync.Mutex
	m  map[string]*compiled
}

type compiled struct {
	proto *glua.FunctionProto
	mod   time.Time
	size  int64
	sum   [sha256.Size]byte
}

// load returns the compiled chunk of the file at path, whose stat fi may
// give, taken just before (nil: load takes it).
func (c *protoCache) load(path string, fi os.FileInfo) (*glua.FunctionProto, error) {
	if fi == nil {
		var err error
		if fi, err = os.Stat(path); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	e := c.m[path]
	c.mu.Unlock()
	if e != nil && e.mod.Equal(fi.ModTime()) && e.size == fi.Size() {
		return e.proto, nil
	}
	return c.compile(path, fi)
}

// fresh returns the compiled chunk of the file at path as it is on disk
// now: compiled again unless its content is the cached one's.
func (c *protoCache) fresh(path string) (*glua.FunctionProto, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return c.compile(path, fi)
}

// compile reads, and unless its content is cached, compiles the file.
func (c *protoCache) compile(path string, fi os.FileInfo) (*glua.FunctionProto, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	c.mu.Lock()
	e := c.m[path]
	c.mu.Unlock()
	if e != nil && e.sum == sum {
		if !e.mod.Equal(fi.ModTime()) || e.size != fi.Size() { // touched, not changed
			c.mu.Lock()
			c.m[path] = &compiled{proto: e.proto, mod: fi.ModTime(), size: fi.Size(), sum: sum}
			c.mu.Unlock()
		}
		return e.proto, nil
	}
	proto, err := compileChunk(src, displayName(path))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]*compiled)
	}
	c.m[path] = &compiled{proto: proto, mod: fi.ModTime(), size: fi.Size(), sum: sum}
	c.mu.Unlock()
	return proto, nil
}

// compileChunk parses src, makes generic for loops yieldable (forin.go)
// and compiles it.
func compileChunk(src []byte, name string) (*glua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, fmt.Errorf("syntax error: %w", err)
	}
	proto, err := compileAST(chunk, name)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	return proto, nil
}

// compileAST compiles a parsed chunk, with the generic-for rewrite. Every
// chunk a VM runs is compiled here: scripts, modules, the prelude, and
// what load, loadstring, loadfile and dofile read, so one VM has one loop
// semantics and iterators block in loaded code too.
func compileAST(chunk []ast.Stmt, name string) (*glua.FunctionProto, error) {
	rewriteForIn(chunk)
	return glua.Compile(chunk, name)
}

// displayName is how a script appears in error messages and tracebacks:
// relative to the working directory when it lies below it. The working
// directory is read once (os.Getwd costs two system calls, on every
// spawn): tern never changes it.
func displayName(path string) string {
	if wd, err := workDir(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return path
}

var workDir = sync.OnceValues(os.Getwd)
