#pragma once
// Talking to an admin endpoint (front/admin.hpp) from integration tests:
// finding its port in a `tether front`'s stdout, calling it with or without
// a token, and reading samples out of the Prometheus text it serves.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>

#include "support/process.hpp"
#include "tether/http/client.hpp"

namespace tether::test {

// Reads the "tether front: admin http://127.0.0.1:PORT/" line; returns PORT.
std::uint16_t read_admin_port(Process& front);

// One request to the admin endpoint on 127.0.0.1:port (fresh connection).
// `token` is sent as `Authorization: Bearer` when not empty; `headers` are
// added as given (they may replace Host).
http::Response admin_call(std::uint16_t port, boost::beast::http::verb verb,
                          const std::string& target, const std::string& token = {},
                          const std::map<std::string, std::string>& headers = {});

// GET /status, parsed (throws when it is not 200 JSON).
boost::json::object admin_status(std::uint16_t port, const std::string& token = {});

// The instance object with `id` in a /status body (front door's shape, or the
// plan's with it under "front"); null when absent.
const boost::json::object* status_instance(const boost::json::object& status,
                                           const std::string& id);

// One sample line of a Prometheus exposition.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses every sample line (comments skipped). Throws std::runtime_error on
// a line that is not `name{labels} value` or `name value`.
std::vector<Sample> parse_samples(const std::string& text);

// The value of the sample `name` whose labels include all of `labels`
// (summed over every match); nullopt when none matches.
std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::map<std::string, std::string>& labels = {});

}  // namespace tether::test
