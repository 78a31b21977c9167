package redistest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/redistest"
)

func TestServerAnswersAndForgetsOnRestart(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	ctx := context.Background()

	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	got, err := c.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)

	srv.Kill()
	assert.Error(t, c.Ping(ctx).Err(), "a killed server must refuse connections")

	addr := srv.Addr()
	srv.Restart()
	assert.Equal(t, addr, srv.Addr(), "restart keeps the port")
	require.NoError(t, c.Ping(ctx).Err(), "the same client reconnects after restart")
	assert.Zero(t, c.Exists(ctx, "k").Val(), "no persistence: data is gone after restart")
}

func TestServerPersistenceOff(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	ctx := context.Background()

	save, err := c.ConfigGet(ctx, "save").Result()
	require.NoError(t, err)
	assert.Equal(t, "", save["save"])
	aof, err := c.ConfigGet(ctx, "appendonly").Result()
	require.NoError(t, err)
	assert.Equal(t, "no", aof["appendonly"])
	bind, err := c.ConfigGet(ctx, "bind").Result()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", bind["bind"])
}

func TestServerPauseTimesOut(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	require.NoError(t, c.Ping(context.Background()).Err())

	srv.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Ping(ctx).Err()
	assert.Error(t, err, "a paused server must not answer")
	assert.Less(t, time.Since(start), 900*time.Millisecond, "the context deadline, not the 1 s read timeout, must end the wait")

	srv.Resume()
	assert.NoError(t, c.Ping(context.Background()).Err())
}

func TestTwoServersAreIndependent(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	require.NotEqual(t, a.Addr(), b.Addr())
	ctx := context.Background()
	require.NoError(t, a.Client().Set(ctx, "only-a", "1", 0).Err())
	assert.Zero(t, b.Client().Exists(ctx, "only-a").Val())
}

// recordingTB replaces the test given to Start and records whether Start
// skipped or failed it. Both end the goroutine, as the real methods do.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	message         string
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped, r.message = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed, r.message = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func startWithoutBinary(t *testing.T, ci string) *recordingTB {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", ci)
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redistest.Start(rec)
	}()
	<-done
	return rec
}

func TestMissingBinary(t *testing.T) {
	t.Run("skips outside CI", func(t *testing.T) {
		rec := startWithoutBinary(t, "")
		assert.True(t, rec.skipped)
		assert.False(t, rec.failed)
		assert.Contains(t, rec.message, "apt-get install -y redis-server")
	})
	t.Run("fails in CI", func(t *testing.T) {
		rec := startWithoutBinary(t, "true")
		assert.True(t, rec.failed)
		assert.False(t, rec.skipped)
		assert.Contains(t, rec.message, "apt-get install -y redis-server")
	})
}

// TestStartUsesOnlyRedis6Directives runs Start against a stand-in binary
// that records its arguments and exits, as Redis 6 does on a directive it
// does not know. Every option must be one that Redis 6 accepts.
func TestStartUsesOnlyRedis6Directives(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in redis-server is a shell script")
	}
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" >> " + argsFile + "\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, redistest.Binary), []byte(script), 0o755))
	t.Setenv("PATH", dir)
	t.Setenv("CI", "")

	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redistest.Start(rec)
	}()
	<-done
	assert.True(t, rec.failed, "a server that exits at once fails the test")
	assert.Contains(t, rec.message, "exited during start")

	out, err := os.ReadFile(argsFile)
	require.NoError(t, err)
	redis6 := map[string]bool{
		"--port": true, "--bind": true, "--dir": true, "--save": true,
		"--appendonly": true, "--logfile": true, "--daemonize": true,
	}
	var directives []string
	for _, arg := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(arg, "--") {
			directives = append(directives, arg)
		}
	}
	require.NotEmpty(t, directives)
	for _, d := range directives {
		assert.True(t, redis6[d], "directive %s is unknown to Redis 6, which then refuses to start", d)
	}
}
