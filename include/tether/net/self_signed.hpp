#pragma once
// A self-signed certificate for local HTTPS (`tether up --tls`).
#include <string>
#include <vector>

namespace tether::net {

// Writes a fresh EC P-256 key and a self-signed X.509 certificate (valid 30
// days, SubjectAltName = `dns_names` and `ip_addresses`) as PEM files.
// Throws std::runtime_error with OpenSSL's reason on failure.
void write_self_signed(const std::string& cert_path, const std::string& key_path,
                       const std::vector<std::string>& dns_names,
                       const std::vector<std::string>& ip_addresses);

}  // namespace tether::net
