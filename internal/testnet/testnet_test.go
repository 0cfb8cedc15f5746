package testnet_test

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/activator-voip/activator/internal/testnet"
)

func TestRefusingAddrRefusesAndCannotBeTaken(t *testing.T) {
	addr := testnet.RefusingAddr(t)
	if c, err := net.Dial("tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dialling %s: want connection refused, got %v", addr, err)
	}
	// net.Listen sets SO_REUSEADDR, as most servers do: still refused.
	if ln, err := net.Listen("tcp", addr); !errors.Is(err, syscall.EADDRINUSE) {
		if ln != nil {
			ln.Close()
		}
		t.Fatalf("listening on %s: want address in use, got %v", addr, err)
	}
	_, p, _ := net.SplitHostPort(addr)
	if ln, err := net.Listen("tcp", ":"+p); !errors.Is(err, syscall.EADDRINUSE) {
		if ln != nil {
			ln.Close()
		}
		t.Fatalf("listening on every address at port %s: want address in use, got %v", p, err)
	}
}
