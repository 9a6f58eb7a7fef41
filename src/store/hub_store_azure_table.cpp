#include "tether/store/hub_store_azure_table.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <boost/json.hpp>

#include "hub_store_common.hpp"
#include "tether/http/client.hpp"
#include "tether/net/hex.hpp"
#include "tether/store/azure_shared_key.hpp"
#include "tether/store/azure_table_account.hpp"

namespace tether::store {

namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;

constexpr const char* kPartition = "hub";
constexpr auto kTimeout = std::chrono::seconds(5);

// The RowKey of mesh `name`: the name itself when it is plain, otherwise "~"
// and its hex (RowKey forbids '/', '\', '#', '?' and control characters, and
// these keys also appear in URL paths). '~' never starts a plain name.
std::string row_key(const std::string& name) {
  bool plain = true;
  for (unsigned char c : name)
    plain = plain && (std::isalnum(c) || c == '.' || c == '_' || c == '-');
  if (plain) return name;
  return "~" + net::to_hex(name);
}

// Unix ms of an OData DateTime ("2026-11-21T10:11:12.1234567Z"); 0 when
// it does not parse.
std::int64_t parse_timestamp_ms(const std::string& s) {
  std::tm tm{};
  char frac[16] = {0};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%15[0-9]", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac) < 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int ms = 0, digits = 0;
  for (const char* p = frac; *p && digits < 3; ++p, ++digits) ms = ms * 10 + (*p - '0');
  for (; digits < 3; ++digits) ms *= 10;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

// The service's error of `res` ({"odata.error":{"code":..,"message":{"value":..}}}):
// its code and the first line of its message, empty when the body is not one.
struct ODataError {
  std::string code, message;
};

ODataError odata_error(const http::Response& res) {
  ODataError out;
  boost::system::error_code ec;
  json::value v = json::parse(res.body(), ec);
  const json::value* err = !ec && v.is_object() ? v.as_object().if_contains("odata.error") : nullptr;
  if (!err || !err->is_object()) return out;
  const auto& e = err->as_object();
  if (auto* code = e.if_contains("code"); code && code->is_string()) out.code = code->as_string();
  if (auto* msg = e.if_contains("message"); msg && msg->is_object())
    if (auto* text = msg->as_object().if_contains("value"); text && text->is_string()) {
      out.message = text->as_string();
      out.message.resize(std::min(out.message.find('\n'), out.message.size()));
    }
  return out;
}

// "HTTP 403 AuthenticationFailed: Server failed to authenticate the request..."
std::string describe_error(const http::Response& res) {
  std::string out = "HTTP " + std::to_string(res.result_int());
  auto err = odata_error(res);
  if (!err.code.empty()) out += " " + err.code;
  if (!err.message.empty())
    out += ": " + err.message;
  else if (err.code.empty() && !res.body().empty())
    out += ": " + res.body().substr(0, 200);
  return out;
}

struct Reply {
  http::Response res;
  bool retried = false;  // an earlier attempt of this request may have landed
};

class AzureTableHubStore final : public HubStore {
 public:
  explicit AzureTableHubStore(AzureTableAccount account)
      : account_(std::move(account)),
        client_(account_.host, account_.port, kTimeout,
                account_.https ? http::ClientTls::verify : http::ClientTls::off) {
    std::lock_guard lock(mu_);
    create_table();
  }

  std::optional<HubRecord> read(const std::string& name) override {
    std::lock_guard lock(mu_);
    std::string etag;
    return read_locked(name, etag);
  }

  bool compare_and_set(const std::string& name, std::int64_t expected_epoch,
                       const HubRecord& next) override {
    detail::check_next_epoch(name, expected_epoch, next);
    std::lock_guard lock(mu_);
    json::object entity{{"PartitionKey", kPartition},
                        {"RowKey", row_key(name)},
                        {"Epoch", std::to_string(next.epoch)},
                        {"Epoch@odata.type", "Edm.Int64"},
                        {"Cookie", next.cookie},
                        {"HubId", next.hub_id}};
    if (expected_epoch == 0) {
      Reply r = call(bhttp::verb::post, "/" + account_.table, json::serialize(entity), {});
      if (r.res.result() == bhttp::status::not_found && odata_error(r.res).code == "TableNotFound") {
        create_table();  // deleted under us: make it again, then insert once more
        r = call(bhttp::verb::post, "/" + account_.table, json::serialize(entity), {});
      }
      if (r.res.result() == bhttp::status::created || r.res.result() == bhttp::status::no_content)
        return true;
      if (r.res.result() == bhttp::status::conflict) return r.retried && holds(name, next);
      fail("insert " + name, r.res);
    }
    std::string etag;
    auto current = read_locked(name, etag);
    if (!current || current->epoch != expected_epoch) return false;
    Reply r = call(bhttp::verb::put, entity_path(name), json::serialize(entity), etag);
    if (r.res.result() == bhttp::status::no_content || r.res.result() == bhttp::status::ok)
      return true;
    if (r.res.result() == bhttp::status::precondition_failed ||
        r.res.result() == bhttp::status::not_found)
      return r.retried && holds(name, next);
    fail("update " + name, r.res);
  }

  std::string describe() const override { return account_.describe(); }

 private:
  std::string entity_path(const std::string& name) const {
    return "/" + account_.table + "(PartitionKey='" + kPartition + "',RowKey='" + row_key(name) +
           "')";
  }

  [[noreturn]] void fail(const std::string& what, const http::Response& res) const {
    throw StoreError(account_.describe() + ": " + what + ": " + describe_error(res));
  }

  // True when the stored record of `name` is `next`: our own write landed.
  bool holds(const std::string& name, const HubRecord& next) {
    std::string etag;
    auto now = read_locked(name, etag);
    return now && now->epoch == next.epoch && now->hub_id == next.hub_id &&
           now->cookie == next.cookie;
  }

  std::optional<HubRecord> read_locked(const std::string& name, std::string& etag) {
    Reply r = call(bhttp::verb::get, entity_path(name), {}, {});
    if (r.res.result() == bhttp::status::not_found) {
      if (odata_error(r.res).code == "TableNotFound") create_table();
      return std::nullopt;
    }
    if (r.res.result() != bhttp::status::ok) fail("read " + name, r.res);
    boost::system::error_code ec;
    json::value v = json::parse(r.res.body(), ec);
    if (ec || !v.is_object()) fail("read " + name + ": not a JSON entity", r.res);
    const auto& o = v.as_object();
    HubRecord record;
    const json::value* epoch = o.if_contains("Epoch");
    if (epoch && epoch->is_string()) {
      try {
        record.epoch = std::stoll(std::string(epoch->as_string()));
      } catch (const std::exception&) {
        fail("read " + name + ": Epoch is not a number", r.res);
      }
    } else if (epoch && epoch->is_int64()) {
      record.epoch = epoch->as_int64();
    } else {
      fail("read " + name + ": no Epoch", r.res);
    }
    if (auto* c = o.if_contains("Cookie"); c && c->is_string()) record.cookie = c->as_string();
    if (auto* h = o.if_contains("HubId"); h && h->is_string()) record.hub_id = h->as_string();
    if (auto* t = o.if_contains("Timestamp"); t && t->is_string())
      record.updated_ms = parse_timestamp_ms(std::string(t->as_string()));
    if (record.updated_ms == 0) record.updated_ms = detail::unix_now_ms();
    etag = std::string(r.res[bhttp::field::etag]);
    return record;
  }

  void create_table() {
    json::object body{{"TableName", account_.table}};
    Reply r = call(bhttp::verb::post, "/Tables", json::serialize(body), {});
    auto s = r.res.result();
    if (s == bhttp::status::created || s == bhttp::status::no_content ||
        s == bhttp::status::conflict)  // TableAlreadyExists
      return;
    fail("create table " + account_.table, r.res);
  }

  // Sends one signed request to path_prefix + `path`; once more on a new
  // connection when a reused one fails. Throws StoreError when it cannot be
  // sent or answered.
  Reply call(bhttp::verb verb, const std::string& path, const std::string& body,
             const std::string& if_match) {
    Reply reply;
    for (int attempt = 0;; ++attempt) {
      http::Request req{verb, account_.path_prefix + path, 11};
      std::string date = http_date(std::chrono::system_clock::now());
      std::string content_type = body.empty() ? "" : "application/json";
      req.set("x-ms-date", date);
      req.set("x-ms-version", "2019-02-02");
      req.set(bhttp::field::accept, "application/json;odata=nometadata");
      req.set("DataServiceVersion", "3.0;NetFx");
      req.set("MaxDataServiceVersion", "3.0;NetFx");
      if (!content_type.empty()) {
        req.set(bhttp::field::content_type, content_type);
        req.set("Prefer", "return-no-content");
      }
      if (!if_match.empty()) req.set(bhttp::field::if_match, if_match);
      std::string resource =
          shared_key_canonical_resource(account_.account, std::string(req.target()));
      std::string to_sign = shared_key_string_to_sign(bhttp::to_string(verb), "", content_type,
                                                      date, resource);
      req.set(bhttp::field::authorization,
              "SharedKey " + account_.account + ":" + shared_key_signature(account_.key, to_sign));
      req.body() = body;
      try {
        reply.res = client_.send(std::move(req));
        return reply;
      } catch (const boost::system::system_error& e) {
        if (attempt == 0 && client_.last_send_reused()) {
          reply.retried = verb != bhttp::verb::get;
          continue;
        }
        throw StoreError(account_.describe() + ": " + e.what());
      }
    }
  }

  AzureTableAccount account_;
  std::mutex mu_;
  http::Client client_;
};

}  // namespace

std::unique_ptr<HubStore> open_azure_table_hub_store(const std::string& connection_string) {
  return std::make_unique<AzureTableHubStore>(parse_azure_table_account(connection_string));
}

}  // namespace tether::store
