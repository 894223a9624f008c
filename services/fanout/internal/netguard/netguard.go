// Package netguard tells which addresses fan-out must not reach unless the
// operator allows it: the machine itself (loopback, unspecified), link-local
// addresses and the cloud metadata services, which hand out credentials to
// whoever asks from inside the machine. It is checked twice: on the host of
// a URL before a job is made, and on the address actually dialled (so a name
// that resolves to 127.0.0.1 is refused too).
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// metadata are cloud metadata endpoints outside the link-local ranges.
var metadata = []netip.Prefix{
	netip.MustParsePrefix("fd00:ec2::254/128"),   // AWS over IPv6
	netip.MustParsePrefix("100.100.100.200/32"),  // Alibaba Cloud
	netip.MustParsePrefix("168.63.129.16/32"),    // Azure host endpoint
	netip.MustParsePrefix("0.0.0.0/8"),           // "this network": 0.0.0.0 reaches the machine itself
	netip.MustParsePrefix("64:ff9b::7f00:0/104"), // 127.0.0.0/8 through NAT64
	netip.MustParsePrefix("64:ff9b::a9fe:0/112"), // 169.254.0.0/16 through NAT64
	netip.MustParsePrefix("::ffff:0:0/96"),       // handled by Unmap; listed for clarity
}

// localNames are host names that always mean the machine or its metadata
// service.
var localNames = map[string]bool{
	"localhost": true, "localhost.localdomain": true, "ip6-localhost": true, "ip6-loopback": true,
	"metadata": true, "metadata.google.internal": true, "instance-data": true,
}

// Local reports whether ip is an address fan-out refuses by default, and
// what kind it is.
func Local(ip netip.Addr) (string, bool) {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "an invalid address", true
	case ip.IsLoopback():
		return "a loopback address", true
	case ip.IsUnspecified():
		return "an unspecified address", true
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "a link-local address (cloud metadata lives there)", true
	case ip.IsMulticast():
		return "a multicast address", true
	}
	for _, p := range metadata {
		if p.Contains(ip) {
			return "a metadata or loopback address", true
		}
	}
	return "", false
}

// LocalHost reports whether host (a URL's host, without port) names an
// address fan-out refuses by default: a literal local address or a name
// such as localhost. Other names are checked when dialled (Control).
func LocalHost(host string) (string, bool) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if localNames[h] || strings.HasSuffix(h, ".localhost") {
		return "a name of the machine itself or its metadata service", true
	}
	if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return Local(ip)
	}
	return "", false
}

// ErrRefused is returned when dialling an address fan-out refuses.
var ErrRefused = errors.New("address refused")

// Control is a net.Dialer Control function that refuses to connect to a
// local address (see Local).
func Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRefused, address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s is not an IP address", ErrRefused, host)
	}
	if kind, local := Local(ip); local {
		return fmt.Errorf("%w: %s is %s; set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it", ErrRefused, ip, kind)
	}
	return nil
}
