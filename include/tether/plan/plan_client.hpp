#pragma once
// The client side of `tether status|scale|kill|drain|undrain`: finds
// a running plan's admin endpoint and calls it.
#include <cstdint>
#include <string>

#include "tether/net/endpoint.hpp"

namespace tether::plan {

// The admin endpoint: `admin` ("host:port" or "http://host:port") when given,
// else read from the state file of the plan whose front door listens on
// `front_port`. Throws std::runtime_error saying what is missing.
net::HostPort find_admin(const std::string& admin, std::uint16_t front_port,
                         const std::string& state_dir);

// Each prints a human summary (or the raw JSON) and returns an exit code.
int print_status(const net::HostPort& admin, bool json);
int request_scale(const net::HostPort& admin, unsigned instances);
int request_kill(const net::HostPort& admin, const std::string& instance);

// Prints the last lines (up to 200) an instance's app wrote; 1 when no
// single instance matches.
int print_logs(const net::HostPort& admin, const std::string& instance);
// POST /instances/<instance>/drain (or /undrain when `drain` is false), with
// `Authorization: Bearer <token>` when `token` is not empty.
int request_drain(const net::HostPort& admin, const std::string& instance, bool drain,
                  const std::string& token = {});

}  // namespace tether::plan
