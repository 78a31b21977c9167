package session_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/tokenpattern/tokenpattern/session"
)

// BenchmarkRandRead32 is the raw cost of the 256 random bits in a token,
// the baseline for BenchmarkNewToken.
func BenchmarkRandRead32(b *testing.B) {
	var buf [32]byte
	b.ReportAllocs()
	for b.Loop() {
		_, _ = rand.Read(buf[:])
	}
}

func BenchmarkNewToken(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := session.NewToken(session.DefaultPrefix); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256Token is the raw cost of hashing one token, the baseline
// for BenchmarkValidateToken.
func BenchmarkSHA256Token(b *testing.B) {
	token, _ := session.NewToken(session.DefaultPrefix)
	buf := []byte(token)
	b.ReportAllocs()
	for b.Loop() {
		_ = sha256.Sum256(buf)
	}
}

func BenchmarkCheckTokenFormat(b *testing.B) {
	token, _ := session.NewToken(session.DefaultPrefix)
	b.ReportAllocs()
	for b.Loop() {
		if err := session.CheckTokenFormat(token, session.DefaultPrefix); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	m, _ := newTestManager(b, session.ManagerConfig{})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Issue(ctx, "alice", map[string]string{"scope": "a"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateToken(b *testing.B) {
	ctx := context.Background()
	m, _ := newTestManager(b, session.ManagerConfig{})
	token, _, err := m.Issue(ctx, "alice", map[string]string{"scope": "a b"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.ValidateToken(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateTokenParallel(b *testing.B) {
	ctx := context.Background()
	m, _ := newTestManager(b, session.ManagerConfig{TouchInterval: 60e9})
	token, _, err := m.Issue(ctx, "alice", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.ValidateToken(ctx, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkValidateMalformed(b *testing.B) {
	ctx := context.Background()
	m, _ := newTestManager(b, session.ManagerConfig{})
	token, _ := session.NewToken(session.DefaultPrefix)
	bad := token[:len(token)-1] + "A"
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.ValidateToken(ctx, bad)
	}
}
