//go:build unix

// Package testnet gives tests a loopback address where nothing answers and
// nothing can start answering while the test runs: a provider, a mail
// server or activator itself that is down.
package testnet

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// RefusingAddr is a loopback host:port where every connection is refused
// until tb ends. The port is bound but never listened on, and bound
// without SO_REUSEADDR, so no other process can bind it meanwhile. The
// address of a closed server is no substitute: its port is free again, and
// a test running beside this one may be given it and answer.
func RefusingAddr(tb testing.TB) string {
	tb.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		tb.Fatalf("testnet: socket: %v", err)
	}
	syscall.CloseOnExec(fd)
	tb.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatalf("testnet: binding a loopback port: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		tb.Fatalf("testnet: getsockname: %v", err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}
