package buildengine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testserver"
)

func TestScriptPinsBuildKitVersion(t *testing.T) {
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "scripts", "engine.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\nBUILDKIT_VERSION=" + BuildKitVersion + "\n"; !strings.Contains(string(script), want) {
		t.Errorf("scripts/engine.sh does not pin %q, which BuildKitVersion says", strings.TrimSpace(want))
	}
}

func TestStartSaysHowToInstall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Start refuses anything but Linux first")
	}
	_, err := Start(context.Background(), Options{StateDir: t.TempDir(), BinDir: t.TempDir()})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "make engine") {
		t.Fatalf("err = %v, want one wrapping ErrNotInstalled that says `make engine`", err)
	}
}

func TestConfigIsLoopbackOnly(t *testing.T) {
	l, err := newLayout(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conf := buildkitdConfig(l, "/usr/sbin/runc", DefaultCNIBinDir)
	for _, want := range []string{
		`networkMode = "cni"`,
		`cniConfigPath = "` + l.cniConf + `"`,
		`address = ["unix://` + l.socket + `"]`,
		"[worker.containerd]\n  enabled = false",
		"insecure-entitlements = []",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("buildkitd.toml lacks %q:\n%s", want, conf)
		}
	}
	if strings.Count(cniLoopbackConf, `"type"`) != 1 || !strings.Contains(cniLoopbackConf, `"type": "loopback"`) {
		t.Errorf("CNI config holds more than the loopback plugin:\n%s", cniLoopbackConf)
	}
}

// TestDaemonRestartsAndStops kills buildkitd behind the supervisor's back,
// expects a new one to answer, then closes it and expects it gone.
func TestDaemonRestartsAndStops(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	other, err := Connect(ctx, d.Addr(), Options{BinDir: binDir(t)})
	if err != nil {
		t.Fatalf("Connect to a running daemon: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Errorf("Close of a connected daemon: %v", err)
	}

	first := d.pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for {
		if pid := d.pid(); pid != 0 && pid != first && d.Ping(ctx) == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no new buildkitd answered after the first was killed")
		case <-time.After(200 * time.Millisecond):
		}
	}

	second := d.pid()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(second, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("buildkitd %d still exists after Close (kill -0: %v)", second, err)
	}
	if _, err := Connect(ctx, d.Addr(), Options{BinDir: binDir(t)}); err == nil {
		t.Error("Connect succeeded after Close")
	}
}

// pid is the process id of the running buildkitd, 0 between restarts.
func (d *Daemon) pid() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		return 0
	}
	return d.proc.cmd.Process.Pid
}
