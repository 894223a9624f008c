package netguard

import (
	"errors"
	"net/netip"
	"testing"
)

func TestLocalHost(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.1.2.3", "[::1]", "::1", "0.0.0.0", "0.1.2.3", "::", "169.254.169.254",
		"fe80::1", "fd00:ec2::254", "100.100.100.200", "168.63.129.16", "::ffff:127.0.0.1",
		"::ffff:169.254.169.254", "64:ff9b::127.0.0.1", "localhost", "LOCALHOST.", "api.localhost",
		"metadata.google.internal", "224.0.0.1",
	}
	for _, h := range refused {
		if _, local := LocalHost(h); !local {
			t.Errorf("%s is not refused", h)
		}
	}
	allowed := []string{"argocd.example.com", "10.0.0.5", "192.168.1.10", "2001:db8::1", "8.8.8.8", "localhost.example.com"}
	for _, h := range allowed {
		if kind, local := LocalHost(h); local {
			t.Errorf("%s is refused as %s", h, kind)
		}
	}
}

func TestControlRefusesLocalAddresses(t *testing.T) {
	if err := Control("tcp", "127.0.0.1:8080", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("loopback: %v", err)
	}
	if err := Control("tcp6", "[::ffff:a9fe:a9fe]:80", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("mapped metadata address: %v", err)
	}
	if err := Control("tcp", "203.0.113.7:443", nil); err != nil {
		t.Fatalf("public address: %v", err)
	}
	if _, local := Local(netip.MustParseAddr("203.0.113.7")); local {
		t.Fatal("public address is local")
	}
}
