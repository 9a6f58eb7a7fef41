#pragma once
// A loopback port for a process this one starts and tells where to listen
// (a sidecar app's PORT; a test's HAProxy or nginx): the one case where a
// port is chosen before its listener binds it.
//
// A port from bind(0) comes from the kernel's ephemeral range, which every
// other bind(0) and every outgoing connection on the machine draw from:
// between its release and the child's bind, anyone may be handed it (seen:
// one instance's local API bound the port its neighbour's app was told to
// use, and the neighbour's requests reached the wrong process). So the port
// is chosen at random outside the ephemeral range (which the kernel never
// hands out by itself) and checked free on 127.0.0.1 and ::1 now.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tether::net {

struct PortRange {
  std::uint16_t first = 0, last = 0;  // inclusive
  bool operator==(const PortRange&) const = default;
};

// "32768\t60999\n", as /proc/sys/net/ipv4/ip_local_port_range reads.
std::optional<PortRange> parse_port_range(std::string_view text);

// The ports at or above `floor` outside `ephemeral`, as ranges (none when
// the ephemeral range covers them all).
std::vector<PortRange> ports_outside(PortRange ephemeral, std::uint16_t floor = 10000);

// A random port from ports_outside(the kernel's range) that nothing listens
// on or is bound to now, on 127.0.0.1 nor ::1. When no such range exists
// (a kernel configured to hand out every port), a port from bind(0).
// Throws std::runtime_error when 64 tries found none free.
std::uint16_t free_port_for_child();

}  // namespace tether::net
