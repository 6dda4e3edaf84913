package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/tern-dev/tern/root"
)

// watchDebounce is how long the watcher waits after a change before it
// reloads: an editor's save is often several events.
const watchDebounce = 100 * time.Millisecond

// watch reloads, when a script file in one of dirs changes, every service
// running that script (`tern run --watch`, for development). stop ends it.
func watch(rt *root.Runtime, dirs []string, log *slog.Logger) (stop func(), err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, err
		}
	}
	log.Info("watching for script changes", "dirs", strings.Join(dirs, ", "))
	var (
		mu      sync.Mutex
		changed = map[string]bool{}
		timer   *time.Timer
	)
	reload := func() {
		mu.Lock()
		files := changed
		changed = map[string]bool{}
		mu.Unlock()
		for f := range files {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			n, failed, err := rt.ReloadScript(ctx, filepath.Base(f))
			cancel()
			switch {
			case err != nil:
				log.Error("watch: reload", "script", f, "err", err)
			case len(failed) > 0:
				for a, err := range failed {
					log.Error("watch: reload failed", "script", f, "at", a.String(), "err", err)
				}
			case n > 0:
				log.Info("watch: reloaded", "script", f, "services", n)
			}
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if !strings.HasSuffix(ev.Name, ".lua") || !ev.Has(fsnotify.Write|fsnotify.Create|fsnotify.Rename) {
					continue
				}
				mu.Lock()
				changed[ev.Name] = true
				if timer == nil {
					timer = time.AfterFunc(watchDebounce, reload)
				} else {
					timer.Reset(watchDebounce)
				}
				mu.Unlock()
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				log.Warn("watch", "err", err)
			}
		}
	}()
	return func() {
		w.Close()
		<-done
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
	}, nil
}

// watchDirs are the directories of the bootstrap and of the search path
// (the part of each pattern before any "?").
func watchDirs(cfg root.Config) []string {
	seen := map[string]bool{}
	var dirs []string
	add := func(d string) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	add(filepath.Dir(cfg.Bootstrap))
	for _, p := range cfg.Path {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		add(filepath.Clean(p))
	}
	return dirs
}
