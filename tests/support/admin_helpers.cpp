#include "support/admin_helpers.hpp"

#include <stdexcept>

#include <boost/json/parse.hpp>

namespace tether::test {

namespace bhttp = boost::beast::http;

std::uint16_t read_admin_port(Process& front) {
  auto m = front.wait_for_line(R"(admin http://127\.0\.0\.1:(\d+)/)");
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

http::Response admin_call(std::uint16_t port, bhttp::verb verb, const std::string& target,
                          const std::string& token,
                          const std::map<std::string, std::string>& headers) {
  http::Client c("127.0.0.1", port, std::chrono::seconds(10));
  http::Request req{verb, target, 11};
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  for (const auto& [k, v] : headers) req.set(k, v);
  return c.send(std::move(req));
}

boost::json::object admin_status(std::uint16_t port, const std::string& token) {
  auto res = admin_call(port, bhttp::verb::get, "/status", token);
  if (res.result_int() != 200)
    throw std::runtime_error("GET /status answered " + std::to_string(res.result_int()) + ": " +
                             res.body());
  return boost::json::parse(res.body()).as_object();
}

const boost::json::object* status_instance(const boost::json::object& status,
                                           const std::string& id) {
  const auto* front = &status;
  if (auto* f = status.if_contains("front"); f && f->is_object()) front = &f->as_object();
  auto* list = front->if_contains("instances");
  if (!list || !list->is_array()) return nullptr;
  for (const auto& v : list->as_array())
    if (v.is_object() && v.as_object().contains("id") && v.at("id").as_string() == id)
      return &v.as_object();
  return nullptr;
}

std::vector<Sample> parse_samples(const std::string& text) {
  std::vector<Sample> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        auto eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"')
          throw std::runtime_error("bad labels in: " + line);
        std::string key = line.substr(i, eq - i);
        std::string value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value.push_back(line[j] == 'n' ? '\n' : line[j]);
          } else {
            value.push_back(line[j]);
          }
        }
        if (j >= line.size()) throw std::runtime_error("unterminated label in: " + line);
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) throw std::runtime_error("unterminated labels in: " + line);
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ' || s.name.empty())
      throw std::runtime_error("not a sample line: " + line);
    std::string value = line.substr(i + 1);
    std::size_t used = 0;
    s.value = value == "+Inf" ? 1e300 : std::stod(value, &used);
    if (value != "+Inf" && used != value.size())
      throw std::runtime_error("bad value in: " + line);
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::map<std::string, std::string>& labels) {
  std::optional<double> sum;
  for (const auto& s : parse_samples(text)) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) sum = sum.value_or(0) + s.value;
  }
  return sum;
}

}  // namespace tether::test
