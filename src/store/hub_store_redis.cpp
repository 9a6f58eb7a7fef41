#include "tether/store/hub_store_redis.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <boost/url/parse.hpp>

#include "hub_store_common.hpp"
#include "tether/store/redis_connection.hpp"

namespace tether::store {

namespace {

// KEYS[1] = the record's hash; ARGV = expected epoch, next epoch, cookie,
// hub_id. A missing hash counts as epoch 0. Returns 1 when it wrote.
constexpr const char* kCasScript =
    "local e = redis.call('HGET', KEYS[1], 'epoch')\n"
    "if e == false then e = '0' end\n"
    "if e ~= ARGV[1] then return 0 end\n"
    "local t = redis.call('TIME')\n"
    "local ms = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))\n"
    "redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'cookie', ARGV[3], 'hub_id', ARGV[4],"
    " 'updated_ms', ms)\n"
    "return 1\n";

constexpr const char* kPrefix = "tether:hub:";

[[noreturn]] void bad_url(const std::string& url, const std::string& why) {
  throw std::invalid_argument("hub store URL '" + url + "': " + why +
                              " (expected redis://[:password@]host[:port][/db], "
                              "redis:///abs/path.sock or redis+unix:///abs/path.sock[?db=N])");
}

int to_int(const std::string& url, std::string_view s, int min, int max, const char* what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < min || v > max)
    bad_url(url, std::string(what) + " must be " + std::to_string(min) + "-" +
                     std::to_string(max));
  return v;
}

std::int64_t to_int64(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    throw StoreError("redis: malformed number '" + std::string(s) + "' in a hub record");
  return v;
}

class RedisHubStore final : public HubStore {
 public:
  explicit RedisHubStore(RedisLocation where)
      : conn_(std::move(where), std::chrono::seconds(2), [this](RedisConnection& c) {
          // Every (re)connect loads the script: a restarted server forgot it.
          RedisReply r = c.command({"SCRIPT", "LOAD", kCasScript});
          if (r->type != REDIS_REPLY_STRING) c.fail("SCRIPT LOAD: unexpected reply");
          sha_.assign(r->str, r->len);
        }) {
    std::lock_guard lock(mutex_);
    conn_.ensure_connected();
  }

  std::optional<HubRecord> read(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto r = conn_.command({"HMGET", kPrefix + name, "epoch", "cookie", "hub_id", "updated_ms"});
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
      conn_.fail("HMGET: unexpected reply type " + std::to_string(r->type));
    auto field = [&](std::size_t i) -> std::optional<std::string> {
      const redisReply* e = r->element[i];
      if (e->type == REDIS_REPLY_NIL) return std::nullopt;
      if (e->type != REDIS_REPLY_STRING) conn_.fail("HMGET: unexpected field type");
      return std::string(e->str, e->len);
    };
    auto epoch = field(0);
    if (!epoch) return std::nullopt;
    HubRecord record;
    record.epoch = to_int64(*epoch);
    record.cookie = field(1).value_or("");
    record.hub_id = field(2).value_or("");
    record.updated_ms = to_int64(field(3).value_or("0"));
    return record;
  }

  bool compare_and_set(const std::string& name, std::int64_t expected_epoch,
                       const HubRecord& next) override {
    detail::check_next_epoch(name, expected_epoch, next);
    std::lock_guard lock(mutex_);
    conn_.ensure_connected();  // (re)loads the script, so sha_ is current
    std::vector<std::string> args{"EVALSHA", sha_, "1", kPrefix + name,
                                  std::to_string(expected_epoch), std::to_string(next.epoch),
                                  next.cookie, next.hub_id};
    RedisReply r = conn_.command_raw(args);
    if (r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("NOSCRIPT")) {
      // A flushed server forgot the script: send it whole.
      args[0] = "EVAL";
      args[1] = kCasScript;
      r = conn_.command_raw(args);
    }
    if (r->type == REDIS_REPLY_ERROR) conn_.fail("EVAL: " + std::string(r->str, r->len));
    if (r->type != REDIS_REPLY_INTEGER)
      conn_.fail("EVAL: unexpected reply type " + std::to_string(r->type));
    return r->integer == 1;
  }

  std::string describe() const override { return "redis: " + conn_.where(); }

 private:
  std::mutex mutex_;
  std::string sha_;
  RedisConnection conn_;  // after sha_: its on_connect writes sha_
};

}  // namespace

RedisLocation parse_redis_location(const std::string& url) {
  std::string_view s = url;
  RedisLocation loc;
  auto unix_path = [&](std::string_view rest) {
    auto q = rest.find('?');
    std::string_view path = rest.substr(0, q);
    if (path.empty() || path.front() != '/') bad_url(url, "a unix socket path must be absolute");
    loc.socket = std::string(path);
    if (q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      if (!query.starts_with("db=")) bad_url(url, "the only query parameter is db=N");
      loc.db = to_int(url, query.substr(3), 0, 1'000'000, "the Redis db");
    }
    return loc;
  };
  if (s.starts_with("redis+unix://")) return unix_path(s.substr(13));
  if (s.starts_with("unix://")) return unix_path(s.substr(7));
  if (s.starts_with("unix:")) return unix_path(s.substr(5));
  if (s.starts_with("redis:///")) return unix_path(s.substr(8));
  if (s.starts_with("/") && s.ends_with(".sock")) return unix_path(s);
  if (!s.starts_with("redis://")) bad_url(url, "not a Redis URL");
  auto u = boost::urls::parse_uri(url);
  if (!u || u->host().empty()) bad_url(url, "no host");
  loc.host = std::string(u->host_address());
  if (u->has_port()) loc.port = to_int(url, u->port(), 1, 65535, "the Redis port");
  if (u->has_password()) loc.password = std::string(u->password());
  const std::string path = u->path();  // decoded: a string, not a view
  if (!path.empty() && path != "/") loc.db = to_int(url, path.substr(1), 0, 1'000'000, "the Redis db");
  return loc;
}

std::unique_ptr<HubStore> open_redis_hub_store(const std::string& url) {
  auto loc = parse_redis_location(url);
  return std::make_unique<RedisHubStore>(std::move(loc));
}

}  // namespace tether::store
