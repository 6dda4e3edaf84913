package root

import (
	"fmt"
	"github.com/tern-dev/tern/internal/suggest"
	"os"

	glua "github.com/yuin/gopher-lua"
)

// AdminConfig enables the admin HTTP API (services/admin).
type AdminConfig struct {
	Listen string // "127.0.0.1:8700"; "" disables it
	// Token is required as "Authorization: Bearer <token>" when set, and
	// on any address other than loopback. TERN_ADMIN_TOKEN sets it when
	// config.lua does not.
	Token string
}

// ConsoleConfig enables the debug console (services/console).
type ConsoleConfig struct {
	Listen string // "127.0.0.1:8701"; "" disables it
	Inject bool   // allow `inject X file.lua`
}

var (
	adminKeys   = []string{"listen", "token"}
	consoleKeys = []string{"listen", "inject"}
)

// readAdmin reads admin = { listen = "...", token = "..." }.
func (cfg *Config) readAdmin(file string, v glua.LValue) error {
	t, err := subTable(file, "admin", v, adminKeys)
	if err != nil {
		return err
	}
	if cfg.Admin.Listen, err = optString(file, "admin.listen", t.RawGetString("listen")); err != nil {
		return err
	}
	if cfg.Admin.Token, err = optString(file, "admin.token", t.RawGetString("token")); err != nil {
		return err
	}
	return nil
}

// readConsole reads console = { listen = "...", inject = false }.
func (cfg *Config) readConsole(file string, v glua.LValue) error {
	t, err := subTable(file, "console", v, consoleKeys)
	if err != nil {
		return err
	}
	if cfg.Console.Listen, err = optString(file, "console.listen", t.RawGetString("listen")); err != nil {
		return err
	}
	switch b := t.RawGetString("inject").(type) {
	case glua.LBool:
		cfg.Console.Inject = bool(b)
	case *glua.LNilType:
	default:
		return fmt.Errorf("config %s: console.inject must be a boolean, not %s", file, describeValue(b))
	}
	return nil
}

// adminTokenFromEnv fills the admin token from TERN_ADMIN_TOKEN when
// config.lua gave none.
func (cfg *Config) adminTokenFromEnv() {
	if cfg.Admin.Token == "" {
		cfg.Admin.Token = os.Getenv("TERN_ADMIN_TOKEN")
	}
}

// subTable checks that v is a table with only the known keys.
func subTable(file, key string, v glua.LValue, known []string) (*glua.LTable, error) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, fmt.Errorf("config %s: %s must be a table, not %s", file, key, describeValue(v))
	}
	var err error
	t.ForEach(func(k, _ glua.LValue) {
		if err != nil {
			return
		}
		s, ok := k.(glua.LString)
		valid := false
		for _, kn := range known {
			valid = valid || ok && string(s) == kn
		}
		if !valid {
			err = fmt.Errorf("config %s: %s: unknown key %s%s", file, key, describeValue(k), suggest.Key(k.String(), known))
		}
	})
	return t, err
}

// optString reads a string or nothing.
func optString(file, key string, v glua.LValue) (string, error) {
	switch s := v.(type) {
	case glua.LString:
		return string(s), nil
	case *glua.LNilType:
		return "", nil
	}
	return "", fmt.Errorf("config %s: %s must be a string, not %s", file, key, describeValue(v))
}
