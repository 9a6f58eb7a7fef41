#pragma once
// What the sidecar's two loopback APIs share (local_api.cpp, dapr_api.cpp):
// who may call them, and the small encodings both speak.
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "tether/host/router.hpp"

namespace tether::sidecar {

// Refuses (answers and returns false) a request with an Origin header (a
// browser), a Host that is not an IP literal (DNS rebinding), or without
// `token` in header `token_header` ("Authorization" takes "Bearer TOKEN";
// any other header the bare token), compared in constant time.
bool admit_local_call(host::Context& c, const std::string& token, std::string_view token_header);

// A route segment, percent-decoded; empty when it is malformed.
std::string decoded_segment(const std::string& segment);

bool valid_utf8(std::string_view s);

// Now, as RFC 3339 in UTC with milliseconds.
std::string rfc3339_now();

void reply_json(host::Context& c, unsigned status, const boost::json::object& o);

}  // namespace tether::sidecar
