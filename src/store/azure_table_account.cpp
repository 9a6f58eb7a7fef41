#include "tether/store/azure_table_account.hpp"

#include <cctype>
#include <map>
#include <stdexcept>

#include <boost/url/parse.hpp>

#include "tether/net/base64.hpp"

namespace tether::store {

namespace {

// Azurite's well-known development account (public, documented by Microsoft).
constexpr const char* kDevAccount = "devstoreaccount1";
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& why) {
  throw std::invalid_argument("hub store azuretable: " + key + " '" + value + "': " + why);
}

// "Key=Value;Key2=Value2;" -> lowercased key -> value (values keep any '=').
std::map<std::string, std::string> split(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string_view rest(text);
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string part = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0)
      bad("connection string part", part.substr(0, part.find('=')), "expected Key=Value");
    out[lower(trim(std::string_view(part).substr(0, eq)))] =
        trim(std::string_view(part).substr(eq + 1));
  }
  return out;
}

void set_endpoint(AzureTableAccount& a, const std::string& url) {
  auto r = boost::urls::parse_uri(url);
  if (!r) bad("TableEndpoint", url, "not a URL");
  std::string scheme = lower(std::string(r->scheme()));
  if (scheme != "http" && scheme != "https") bad("TableEndpoint", url, "must be http:// or https://");
  if (r->encoded_host().empty()) bad("TableEndpoint", url, "names no host");
  if (r->has_query() || r->has_fragment()) bad("TableEndpoint", url, "must not have a query");
  a.https = scheme == "https";
  a.host = std::string(r->host_address());  // a name, or an IP without brackets
  a.port = a.https ? 443 : 80;
  if (r->has_port()) {
    if (r->port_number() == 0) bad("TableEndpoint", url, "port must be 1-65535");
    a.port = r->port_number();
  }
  std::string path(r->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  a.path_prefix = path;
}

}  // namespace

std::string AzureTableAccount::describe() const {
  std::string url = (https ? "https://" : "http://") + host;
  if (port != (https ? 443 : 80)) url += ":" + std::to_string(port);
  return "azuretable: " + url + path_prefix + "/" + table;
}

AzureTableAccount parse_azure_table_account(const std::string& connection_string) {
  auto kv = split(connection_string);
  AzureTableAccount a;
  if (kv.count("sharedaccesssignature"))
    bad("SharedAccessSignature", "...", "not supported: give AccountName and AccountKey");
  if (kv.count("usedevelopmentstorage")) {
    if (lower(kv["usedevelopmentstorage"]) != "true")
      bad("UseDevelopmentStorage", kv["usedevelopmentstorage"], "only 'true' is meaningful");
    kv.try_emplace("accountname", kDevAccount);
    kv.try_emplace("accountkey", kDevKey);
    kv.try_emplace("tableendpoint", std::string("http://127.0.0.1:10002/") + kDevAccount);
  }
  if (!kv.count("accountname") || kv["accountname"].empty())
    bad("AccountName", kv.count("accountname") ? kv["accountname"] : "", "missing");
  a.account = kv["accountname"];
  if (!kv.count("accountkey") || kv["accountkey"].empty()) bad("AccountKey", "", "missing");
  auto key = net::base64_decode(kv["accountkey"]);
  if (!key || key->empty()) bad("AccountKey", "...", "not base64");
  a.key = std::move(*key);

  if (kv.count("tableendpoint")) {
    set_endpoint(a, kv["tableendpoint"]);
  } else {
    std::string protocol = kv.count("defaultendpointsprotocol") ? lower(kv["defaultendpointsprotocol"])
                                                                : "https";
    if (protocol != "http" && protocol != "https")
      bad("DefaultEndpointsProtocol", kv["defaultendpointsprotocol"], "must be http or https");
    std::string suffix = kv.count("endpointsuffix") ? kv["endpointsuffix"] : "core.windows.net";
    set_endpoint(a, protocol + "://" + a.account + ".table." + suffix);
  }

  if (kv.count("tablename")) a.table = kv["tablename"];
  bool valid = a.table.size() >= 3 && a.table.size() <= 63 &&
               std::isalpha(static_cast<unsigned char>(a.table[0]));
  for (char c : a.table) valid = valid && std::isalnum(static_cast<unsigned char>(c));
  if (!valid) bad("TableName", a.table, "must be 3-63 letters and digits, starting with a letter");
  return a;
}

}  // namespace tether::store
