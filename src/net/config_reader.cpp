#include "tether/net/config_reader.hpp"

#include <algorithm>
#include <sstream>

namespace tether::net {

namespace {
std::string render(const toml::node& n) {
  std::ostringstream out;
  n.visit([&](auto&& v) { out << v; });
  return out.str();
}
}  // namespace

ConfigReader::ConfigReader(const toml::table* table, std::string prefix)
    : table_(table), prefix_(std::move(prefix)) {}

std::string ConfigReader::path(const std::string& key) const {
  return prefix_.empty() ? key : prefix_ + "." + key;
}

void ConfigReader::fail(const std::string& key, const std::string& problem,
                        const std::string& value) const {
  throw ConfigError(path(key) + ": " + problem + " (got " + value + ")");
}

const toml::node* ConfigReader::node(const std::string& key) {
  seen_.insert(key);
  if (!table_) return nullptr;
  return table_->get(key);
}

std::string ConfigReader::string(const std::string& key, std::string fallback) {
  const auto* n = node(key);
  if (!n) return fallback;
  if (auto v = n->value<std::string>()) return *v;
  fail(key, "expected a string", render(*n));
}

bool ConfigReader::boolean(const std::string& key, bool fallback) {
  const auto* n = node(key);
  if (!n) return fallback;
  if (auto v = n->value<bool>()) return *v;
  fail(key, "expected true or false", render(*n));
}

std::int64_t ConfigReader::integer(const std::string& key, std::int64_t fallback,
                                   std::int64_t min, std::int64_t max) {
  const auto* n = node(key);
  if (!n) return fallback;
  if (!n->is_integer()) fail(key, "expected an integer", render(*n));
  auto v = *n->value<std::int64_t>();
  if (v < min || v > max)
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max),
         std::to_string(v));
  return v;
}

Millis ConfigReader::duration(const std::string& key, Millis fallback) {
  const auto* n = node(key);
  if (!n) return fallback;
  if (auto s = n->value<std::string>()) {
    if (auto d = parse_duration(*s)) return *d;
    fail(key, "expected a duration such as \"230s\", \"500ms\" or \"2m\"", "\"" + *s + "\"");
  }
  if (n->is_integer()) {
    auto v = *n->value<std::int64_t>();
    if (v < 0) fail(key, "a duration cannot be negative", std::to_string(v));
    if (v > 1'000'000'000) fail(key, "duration too large (max 1000000000 s)", std::to_string(v));
    return Millis(v * 1000);
  }
  fail(key, "expected a duration such as \"230s\"", render(*n));
}

std::vector<std::string> ConfigReader::strings(const std::string& key,
                                               std::vector<std::string> fallback) {
  const auto* n = node(key);
  if (!n) return fallback;
  const auto* arr = n->as_array();
  if (!arr) fail(key, "expected an array of strings", render(*n));
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    auto v = item.value<std::string>();
    if (!v) fail(key, "expected an array of strings", render(*n));
    out.push_back(*v);
  }
  return out;
}

std::string ConfigReader::choice(const std::string& key, std::string fallback,
                                 const std::vector<std::string>& choices) {
  auto v = string(key, std::move(fallback));
  for (const auto& c : choices)
    if (c == v) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  fail(key, "must be one of " + list, "\"" + v + "\"");
}

ConfigReader ConfigReader::table(const std::string& key) {
  const auto* n = node(key);
  if (!n) return ConfigReader(nullptr, path(key));
  if (!n->is_table()) fail(key, "expected a table", render(*n));
  return ConfigReader(n->as_table(), path(key));
}

std::vector<ConfigReader> ConfigReader::tables(const std::string& key) {
  std::vector<ConfigReader> out;
  const auto* n = node(key);
  if (!n) return out;
  const auto* arr = n->as_array();
  if (!arr) fail(key, "expected an array of tables ([[" + path(key) + "]])", render(*n));
  std::size_t i = 0;
  for (const auto& item : *arr) {
    if (!item.is_table()) fail(key, "expected an array of tables", render(*n));
    out.emplace_back(item.as_table(), path(key) + "[" + std::to_string(i++) + "]");
  }
  return out;
}

void ConfigReader::reject_unknown() const {
  if (!table_) return;
  for (const auto& [k, v] : *table_) {
    std::string key(k.str());
    if (!seen_.count(key)) throw ConfigError(path(key) + ": unknown key (got " + render(v) + ")");
  }
}

void reject_unknown_sections(const toml::table& root, const std::vector<std::string>& known) {
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const auto& s : known) list += (list.empty() ? "" : ", ") + s;
      throw ConfigError(key + ": unknown section (expected one of " + list + ")");
    }
  }
}

toml::table parse_config_file(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    throw ConfigError(out.str());
  }
}

}  // namespace tether::net
