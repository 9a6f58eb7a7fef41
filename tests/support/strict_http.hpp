#pragma once
// A deliberately strict, independent HTTP/1.1 request reader for tests:
// what an instance behind the front door would see in the bytes it was sent.
// It shares no code with tether or Beast, so a framing that the two read
// differently shows up as a difference. Rules (RFC 9112, no leniency):
// CRLF line endings only; request-line "METHOD SP target SP HTTP/1.1";
// field names are tokens, no whitespace before the colon, no obs-fold;
// exactly one Host; at most one framing line, either Content-Length (digits)
// or "Transfer-Encoding: chunked"; chunk sizes in hex, no extensions, the
// last chunk and an empty trailer. Standard C++ only (the fuzz build uses it).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::test {

struct StrictRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> fields;  // names as sent
  std::string body;                                          // decoded

  // The value of the one field named `name` (case-insensitive); nullopt
  // when absent. Throws nothing; with several, the first.
  std::optional<std::string> field(std::string_view name) const;
  std::size_t count(std::string_view name) const;
};

struct StrictParse {
  std::vector<StrictRequest> requests;  // every complete request, in order
  std::string error;                    // why parsing stopped ("" = ran out of bytes cleanly)
  std::size_t consumed = 0;             // bytes of `requests`
  bool incomplete = false;              // the bytes after `consumed` start a request not yet whole
};

// Reads as many requests as `bytes` holds. Stops at the first violation
// (error set) or when the rest is an incomplete request (incomplete set).
StrictParse strict_parse_requests(std::string_view bytes);

}  // namespace tether::test
