// The Redis backplane: hiredis async contexts driven by Asio on the
// instance's executor. include/tether/mesh/backplane_redis.hpp states the
// channels, the membership keys and the guarantees.
#include "tether/mesh/backplane_redis.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "tether/net/log.hpp"
#include "tether/store/hub_store_redis.hpp"

namespace tether::mesh {

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kConnectTimeout{2'000};

std::shared_ptr<spdlog::logger> log() { return net::logger("mesh"); }

}  // namespace

// One hiredis async context and the Asio adapter hiredis calls into. Reads
// wait for readiness on the socket (and drain what is buffered before waiting
// again: the reactor is edge-triggered); writes are tried at once on a
// connected socket and wait for writability only when the socket is full.
// `owner` is cleared when the backplane retires the connection: callbacks
// that arrive later (hiredis runs pending ones with a null reply on free) do
// nothing.
struct RedisConn : std::enable_shared_from_this<RedisConn> {
  RedisConn(asio::any_io_executor ex, int fd, redisAsyncContext* c, RedisBackplane* o, bool sub)
      : owner(o), ac(c), stream(ex, fd), is_sub(sub) {}

  RedisBackplane* owner;
  redisAsyncContext* ac;  // null once hiredis freed it (ev cleanup)
  asio::posix::stream_descriptor stream;
  bool is_sub;
  bool want_read = false, want_write = false, read_armed = false, write_armed = false;

  void arm_read() {
    if (read_armed || !ac || !want_read) return;
    read_armed = true;
    stream.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this()](boost::system::error_code ec) {
                        self->read_armed = false;
                        if (ec != asio::error::operation_aborted) self->readable();
                      });
  }

  void readable() {
    if (!ac || !want_read) return;
    redisAsyncHandleRead(ac);  // may free the context (then ac is null)
    if (!ac || !want_read) return;
    int buffered = 0;
    if (::ioctl(ac->c.fd, FIONREAD, &buffered) == 0 && buffered > 0) {
      // More than one read's worth arrived: go on after other work had a turn.
      read_armed = true;
      asio::post(stream.get_executor(), [self = shared_from_this()] {
        self->read_armed = false;
        self->readable();
      });
    } else {
      arm_read();
    }
  }

  void arm_write() {
    if (write_armed || !ac || !want_write) return;
    write_armed = true;
    if (ac->c.flags & REDIS_CONNECTED) {
      // Coalesces every command appended during this turn into one write.
      asio::post(stream.get_executor(), [self = shared_from_this()] { self->writable(); });
    } else {
      wait_writable();  // connect(2) in progress
    }
  }

  void wait_writable() {
    stream.async_wait(asio::posix::stream_descriptor::wait_write,
                      [self = shared_from_this()](boost::system::error_code ec) {
                        if (ec == asio::error::operation_aborted) {
                          self->write_armed = false;
                          return;
                        }
                        self->writable();
                      });
  }

  void writable() {
    write_armed = false;
    if (!ac || !want_write) return;
    redisAsyncHandleWrite(ac);  // may connect, write, or free the context
    if (ac && want_write && !write_armed) {
      write_armed = true;  // the socket is full (or still connecting): wait for room
      wait_writable();
    }
  }

  static void ev_add_read(void* p) {
    auto* c = static_cast<RedisConn*>(p);
    c->want_read = true;
    c->arm_read();
  }
  static void ev_del_read(void* p) { static_cast<RedisConn*>(p)->want_read = false; }
  static void ev_add_write(void* p) {
    auto* c = static_cast<RedisConn*>(p);
    c->want_write = true;
    c->arm_write();
  }
  static void ev_del_write(void* p) { static_cast<RedisConn*>(p)->want_write = false; }
  static void ev_cleanup(void* p) {
    // hiredis frees the context and closes the socket right after this.
    auto* c = static_cast<RedisConn*>(p);
    c->ac = nullptr;
    c->want_read = c->want_write = false;
    boost::system::error_code ec;
    c->stream.cancel(ec);
    c->stream.release();
  }
};

namespace {

RedisConn* conn_of(const redisAsyncContext* ac) { return static_cast<RedisConn*>(ac->data); }

std::string error_text(const redisAsyncContext* ac, const char* fallback) {
  return ac->errstr && *ac->errstr ? ac->errstr : fallback;
}

void on_connect(const redisAsyncContext* ac, int status) {
  auto* c = conn_of(ac);
  if (!c->owner) return;
  // On failure hiredis frees the context after this returns: never free it here.
  if (status != REDIS_OK) c->owner->on_lost(c, error_text(ac, "connect failed"));
  else if (!c->is_sub) c->owner->on_connected(c);
}

void on_disconnect(const redisAsyncContext* ac, int status) {
  auto* c = conn_of(ac);
  if (!c->owner) return;
  c->owner->on_lost(c, status == REDIS_OK ? "connection closed" : error_text(ac, "I/O error"));
}

std::string_view str(const redisReply* r) { return {r->str, r->len}; }

void on_sub_reply(redisAsyncContext* ac, void* reply, void*) {
  auto* r = static_cast<redisReply*>(reply);
  if (!r || !conn_of(ac)->owner) return;
  auto* self = conn_of(ac)->owner;
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
    return;
  auto type = str(r->element[0]);
  if (type == "message" && r->element[2]->type == REDIS_REPLY_STRING)
    self->on_channel_message(r->element[1]->str, r->element[1]->len, r->element[2]->str,
                             r->element[2]->len);
  else if (type == "subscribe")
    self->on_subscribed(r->element[1]->str, r->element[1]->len);
}

// privdata of a PUBLISH: (correlation << 3) | kind.
void* publish_tag(Kind kind, std::uint64_t correlation) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>((correlation << 3) |
                                                             static_cast<std::uint8_t>(kind)));
}

void publish_replied(redisAsyncContext* ac, void* reply, void* tag) {
  auto* r = static_cast<redisReply*>(reply);
  if (!r || !conn_of(ac)->owner) return;
  auto bits = reinterpret_cast<std::uintptr_t>(tag);
  long long receivers = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  conn_of(ac)->owner->on_publish_reply(receivers, static_cast<Kind>(bits & 7), bits >> 3);
}

void on_heartbeat(redisAsyncContext* ac, void* reply, void*) {
  auto* r = static_cast<redisReply*>(reply);
  if (!r || !conn_of(ac)->owner) return;
  bool ok = r->type != REDIS_REPLY_ERROR;
  conn_of(ac)->owner->on_heartbeat_reply(ok, ok ? std::string() : std::string(str(r)));
}

void on_keys_reply(redisAsyncContext* ac, void* reply, void*) {
  auto* r = static_cast<redisReply*>(reply);
  if (!r || !conn_of(ac)->owner || r->type != REDIS_REPLY_ARRAY) return;
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < r->elements; ++i)
    if (r->element[i]->type == REDIS_REPLY_STRING) keys.emplace_back(str(r->element[i]));
  conn_of(ac)->owner->on_keys(keys);
}

void on_ignored_reply(redisAsyncContext* ac, void* reply, void*) {
  auto* r = static_cast<redisReply*>(reply);
  if (r && r->type == REDIS_REPLY_ERROR && conn_of(ac)->owner)
    log()->warn("Redis answered an error: {}", str(r));
}

void command(redisAsyncContext* ac, redisCallbackFn* fn, void* priv,
             std::initializer_list<std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAsyncCommandArgv(ac, fn, priv, static_cast<int>(argv.size()), argv.data(), lens.data());
}

}  // namespace

RedisBackplane::RedisBackplane(asio::any_io_executor executor, MeshConfig config,
                               std::string instance_id)
    : executor_(executor), config_(std::move(config)), id_(std::move(instance_id)) {
  const auto& url = config_.redis;
  if (!url.empty() && url.front() == '/') {
    unix_path_ = url;
  } else {
    // The one Redis URL parser (store/hub_store_redis.hpp).
    store::RedisLocation parsed;
    try {
      parsed = store::parse_redis_location(url);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("mesh.redis: " + std::string(e.what()) + " (got \"" + url +
                                  "\")");
    }
    host_ = parsed.host;
    port_ = parsed.port;
    unix_path_ = parsed.socket;
    password_ = parsed.password;
    db_ = parsed.db;
  }
  where_ = unix_path_.empty() ? host_ + ":" + std::to_string(port_) : unix_path_;
  prefix_ = "tether:" + config_.name + ":";
  counters_.role = "stopped";
  dispatch_ = std::make_unique<LocalDispatch>(
      executor_, id_,
      [this](Kind kind, std::string target, std::string topic, std::uint64_t correlation,
             std::string payload) {
        return submit(kind, target, std::move(topic), correlation, std::move(payload));
      });
}

RedisBackplane::~RedisBackplane() {
  *alive_ = false;
  running_ = false;
  stopped_ = true;
  close_connections(nullptr);
}

std::string RedisBackplane::channel(const std::string& kind, const std::string& rest) const {
  return prefix_ + kind + rest;
}

void RedisBackplane::start() {
  if (running_) return;
  running_ = true;
  counters_.role = "joining";
  wake_ = std::make_unique<asio::steady_timer>(executor_);
  log()->info("mesh \"{}\" via Redis at {} (pub/sub backplane)", config_.name, where_);
  asio::co_spawn(executor_, connect_loop(this), asio::detached);
}

// Keeps both connections open while running: opens them, waits for them to be
// ready (kConnectTimeout), and after a loss backs off 50 ms doubling to 1 s.
asio::awaitable<void> RedisBackplane::connect_loop(RedisBackplane* self) {
  auto alive = self->alive_;
  std::chrono::milliseconds backoff{50};
  while (*alive && self->running_) {
    if (!self->cmd_) {
      if (self->open_connections()) {
        self->wake_->expires_after(kConnectTimeout);
        co_await self->wake_->async_wait(use_nothrow);
        if (!*alive || !self->running_) co_return;
        if (!self->connected_ && self->cmd_)
          self->on_lost(nullptr, "not ready within " + std::to_string(kConnectTimeout.count()) +
                                     " ms");
      }
    }
    if (self->connected_) {
      backoff = std::chrono::milliseconds{50};
      self->wake_->expires_at(asio::steady_timer::time_point::max());
      co_await self->wake_->async_wait(use_nothrow);  // until on_lost or stop
      if (!*alive) co_return;
      continue;
    }
    if (self->cmd_) continue;  // still connecting (woken early)
    self->wake_->expires_after(backoff);
    co_await self->wake_->async_wait(use_nothrow);
    if (!*alive) co_return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds{1'000});
  }
}

bool RedisBackplane::open_connections() {
  std::erase_if(retired_, [](const auto& c) { return c->ac == nullptr; });
  ++session_;
  cmd_ready_ = sub_ready_ = false;
  std::shared_ptr<RedisConn> made[2];
  for (int i = 0; i < 2; ++i) {
    redisAsyncContext* ac = unix_path_.empty() ? redisAsyncConnect(host_.c_str(), port_)
                                               : redisAsyncConnectUnix(unix_path_.c_str());
    if (!ac || ac->err) {
      auto why = ac ? error_text(ac, "connect failed") : std::string("out of memory");
      if (ac) redisAsyncFree(ac);
      for (auto& m : made)
        if (m) {
          m->owner = nullptr;
          redisAsyncFree(m->ac);
        }
      if (why != last_error_) log()->warn("cannot connect to Redis at {}: {}; retrying", where_, why);
      last_error_ = why;
      ++counters_.store_errors;
      return false;
    }
    auto c = std::make_shared<RedisConn>(executor_, ac->c.fd, ac, this, i == 1);
    ac->data = c.get();
    ac->ev.data = c.get();
    ac->ev.addRead = RedisConn::ev_add_read;
    ac->ev.delRead = RedisConn::ev_del_read;
    ac->ev.addWrite = RedisConn::ev_add_write;
    ac->ev.delWrite = RedisConn::ev_del_write;
    ac->ev.cleanup = RedisConn::ev_cleanup;
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    redisAsyncSetConnectCallback(ac, on_connect);  // after the hooks: it arms the write
    if (!password_.empty()) command(ac, on_ignored_reply, nullptr, {"AUTH", password_});
    made[i] = std::move(c);
  }
  cmd_ = std::move(made[0]);
  sub_ = std::move(made[1]);
  if (db_ != 0) command(cmd_->ac, on_ignored_reply, nullptr, {"SELECT", std::to_string(db_)});
  // The members channel last: its confirmation means every channel before it is live.
  std::vector<std::string> channels{channel("i:", id_), channel("all", "")};
  for (const auto& [topic, h] : dispatch_->handlers())
    channels.push_back(channel("t:", topic));
  channels.push_back(channel("members", ""));
  subscribe_channels(channels);
  return true;
}

void RedisBackplane::subscribe_channels(const std::vector<std::string>& channels) {
  if (!sub_ || !sub_->ac) return;
  std::vector<const char*> argv{"SUBSCRIBE"};
  std::vector<std::size_t> lens{9};
  for (const auto& c : channels) {
    argv.push_back(c.data());
    lens.push_back(c.size());
  }
  redisAsyncCommandArgv(sub_->ac, on_sub_reply, nullptr, static_cast<int>(argv.size()),
                        argv.data(), lens.data());
}

// Retires both connections; `dying` is the one hiredis is freeing already.
void RedisBackplane::close_connections(RedisConn* dying) {
  for (auto* slot : {&cmd_, &sub_}) {
    auto c = std::move(*slot);
    if (!c) continue;
    c->owner = nullptr;
    if (c.get() != dying && c->ac) redisAsyncFree(c->ac);  // deferred if inside its callback
    retired_.push_back(std::move(c));
  }
  connected_ = cmd_ready_ = sub_ready_ = false;
  inflight_ = 0;
  heartbeat_outstanding_ = false;
}

void RedisBackplane::on_connected(RedisConn*) {
  cmd_ready_ = true;
  if (sub_ready_) on_subscribed(nullptr, 0);
}

void RedisBackplane::on_subscribed(const char* ch, std::size_t len) {
  if (ch) {
    auto members = channel("members", "");
    if (std::string_view(ch, len) != members) return;
    sub_ready_ = true;
  }
  if (!cmd_ready_ || !sub_ready_ || connected_) return;
  connected_ = true;
  ++counters_.joins;
  counters_.role = "member";
  if (!last_error_.empty()) log()->info("Redis at {} reachable again", where_);
  last_error_.clear();
  auto key = channel("member:", id_);
  auto ttl = std::to_string(3 * config_.liveness.count());
  command(cmd_->ac, on_ignored_reply, nullptr, {"SET", key, "1", "PX", ttl});
  Frame hello;
  hello.type = FrameType::joined;
  hello.origin = id_;
  std::string body;
  append_frame(body, hello);
  command(cmd_->ac, on_ignored_reply, nullptr, {"PUBLISH", channel("members", ""), body});
  command(cmd_->ac, on_keys_reply, nullptr, {"KEYS", channel("member:", "*")});
  member_seen(id_, true);
  flush_queue();
  wake_->cancel();
  asio::co_spawn(executor_, heartbeat_loop(this, session_), asio::detached);
  wake_waiters();
}

void RedisBackplane::on_lost(RedisConn* conn, const std::string& why) {
  if (!cmd_ && !sub_) return;  // retired already
  bool was = connected_;
  if (why != last_error_ || was)
    log()->warn("{} Redis at {}: {}; reconnecting", was ? "lost" : "cannot connect to", where_, why);
  last_error_ = why;
  ++counters_.store_errors;
  close_connections(conn);
  counters_.role = "joining";
  if (wake_) wake_->cancel();
}

// Every liveness: refresh the member key, re-read the member keys, and give
// up on a connection whose previous heartbeat stayed unanswered 3 x liveness.
asio::awaitable<void> RedisBackplane::heartbeat_loop(RedisBackplane* self, std::uint64_t session) {
  auto alive = self->alive_;
  asio::steady_timer timer(self->executor_);
  auto ttl = std::to_string(3 * self->config_.liveness.count());
  while (true) {
    timer.expires_after(self->config_.liveness);
    co_await timer.async_wait(use_nothrow);
    if (!*alive || session != self->session_ || !self->connected_ || !self->running_) co_return;
    auto now = std::chrono::steady_clock::now();
    if (self->heartbeat_outstanding_) {
      if (now - self->heartbeat_sent_ > 3 * self->config_.liveness) {
        self->on_lost(nullptr, "no answer for " +
                                   std::to_string(3 * self->config_.liveness.count()) + " ms");
        co_return;
      }
      continue;
    }
    self->heartbeat_outstanding_ = true;
    self->heartbeat_sent_ = now;
    auto* ac = self->cmd_ ? self->cmd_->ac : nullptr;
    if (!ac) co_return;
    command(ac, on_heartbeat, nullptr, {"SET", self->channel("member:", self->id_), "1", "PX", ttl});
    command(ac, on_keys_reply, nullptr, {"KEYS", self->channel("member:", "*")});
  }
}

void RedisBackplane::on_heartbeat_reply(bool ok, const std::string& error) {
  heartbeat_outstanding_ = false;
  if (!ok) {
    ++counters_.store_errors;
    log()->warn("Redis at {} refused the member key: {}", where_, error);
  }
}

void RedisBackplane::on_keys(const std::vector<std::string>& keys) {
  auto prefix = channel("member:", "");
  std::set<std::string> present;
  for (const auto& k : keys)
    if (k.rfind(prefix, 0) == 0) present.insert(k.substr(prefix.size()));
  for (const auto& id : present) member_seen(id, true);
  // A member absent from the keys left (its key expired); one announced a
  // moment ago may just not have been in this (older) answer yet.
  auto recent = std::chrono::steady_clock::now() - config_.liveness;
  std::vector<std::string> gone;
  for (const auto& id : members_) {
    auto heard = announced_.find(id);
    if (present.count(id) || id == id_ || (heard != announced_.end() && heard->second > recent))
      continue;
    gone.push_back(id);
  }
  for (const auto& id : gone) member_seen(id, false);
}

void RedisBackplane::member_seen(const std::string& id, bool joined) {
  bool changed = joined ? members_.insert(id).second : members_.erase(id) > 0;
  if (!changed) return;
  MemberEvent e{joined ? MemberEvent::joined : MemberEvent::left, id};
  dispatch_->notify(e);
}

asio::awaitable<void> RedisBackplane::stop(std::chrono::milliseconds grace) {
  if (!running_) co_return;
  auto alive = alive_;
  if (connected_) {
    Frame bye;
    bye.type = FrameType::left;
    bye.origin = id_;
    std::string body;
    append_frame(body, bye);
    command(cmd_->ac, on_ignored_reply, nullptr, {"PUBLISH", channel("members", ""), body});
    command(cmd_->ac, on_ignored_reply, nullptr, {"DEL", channel("member:", id_)});
  }
  // Let what is queued or in flight reach Redis, up to `grace`.
  auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer timer(executor_);
  while (*alive && connected_ && (inflight_ > 0 || !queue_.empty()) &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(use_nothrow);
  }
  if (!*alive) co_return;
  running_ = false;
  stopped_ = true;
  close_connections(nullptr);
  counters_.role = "stopped";
  if (wake_) wake_->cancel();
  wake_waiters();
}

void RedisBackplane::subscribe(const std::string& topic, Handler handler) {
  bool fresh = !dispatch_->handlers().count(topic);
  dispatch_->set_handler(topic, std::move(handler));
  if (fresh) subscribe_channels({channel("t:", topic)});
}

void RedisBackplane::unsubscribe(const std::string& topic) {
  if (!dispatch_->erase_handler(topic) || !sub_ || !sub_->ac) return;
  auto ch = channel("t:", topic);
  command(sub_->ac, on_sub_reply, nullptr, {"UNSUBSCRIBE", ch});
}

bool RedisBackplane::has_room() const {
  return inflight_ + queue_.size() < config_.window && queue_bytes_ < config_.window_bytes;
}

void RedisBackplane::wake_waiters() {
  for (auto* t : waiters_) t->cancel();
}

SendStatus RedisBackplane::submit(Kind kind, const std::string& target, std::string topic,
                                  std::uint64_t correlation, std::string payload) {
  if (stopped_) return SendStatus::stopped;
  if (payload.size() > config_.max_message_bytes) return SendStatus::too_large;
  if (!has_room()) return SendStatus::window_full;
  Frame f;
  f.type = FrameType::deliver;
  f.kind = kind;
  f.seq = ++seq_;
  f.correlation = correlation;
  f.origin = id_;
  f.target = target;
  f.topic = std::move(topic);
  f.payload = std::move(payload);
  Outgoing out;
  out.kind = kind;
  out.correlation = correlation;
  switch (kind) {
    case Kind::publish: out.channel = channel("t:", f.topic); break;
    case Kind::broadcast: out.channel = channel("all", ""); break;
    default: out.channel = channel("i:", target); break;
  }
  append_frame(out.body, f);
  ++counters_.published;
  write(std::move(out));
  return SendStatus::ok;
}

void RedisBackplane::write(Outgoing out) {
  if (!connected_) {
    queue_bytes_ += out.body.size();
    queue_.push_back(std::move(out));
    return;
  }
  ++inflight_;
  command(cmd_->ac, publish_replied, publish_tag(out.kind, out.correlation),
          {"PUBLISH", out.channel, out.body});
}

void RedisBackplane::flush_queue() {
  while (connected_ && !queue_.empty()) {
    auto out = std::move(queue_.front());
    queue_.pop_front();
    queue_bytes_ -= out.body.size();
    write(std::move(out));
  }
}

void RedisBackplane::on_publish_reply(long long receivers, Kind kind, std::uint64_t correlation) {
  if (inflight_ > 0) --inflight_;
  if (receivers == 0 && kind != Kind::publish && kind != Kind::broadcast) {
    ++counters_.undeliverable;
    if (kind == Kind::request) dispatch_->resolve(correlation, Reply{false, "no such instance"});
  }
  if (!waiters_.empty() && has_room()) wake_waiters();
}

asio::awaitable<SendStatus> RedisBackplane::publish(std::string topic, std::string payload) {
  if (stopped_) co_return SendStatus::stopped;
  if (!has_room()) {
    auto alive = alive_;
    auto deadline = std::chrono::steady_clock::now() + config_.publish_timeout;
    asio::steady_timer timer(executor_);
    while (!has_room()) {
      if (std::chrono::steady_clock::now() >= deadline) co_return SendStatus::window_full;
      timer.expires_at(deadline);
      waiters_.push_back(&timer);
      co_await timer.async_wait(use_nothrow);
      if (!*alive) co_return SendStatus::stopped;
      std::erase(waiters_, &timer);
    }
  }
  co_return try_publish(std::move(topic), std::move(payload));
}

SendStatus RedisBackplane::try_publish(std::string topic, std::string payload) {
  auto target = topic;
  return submit(Kind::publish, target, std::move(topic), 0, std::move(payload));
}

SendStatus RedisBackplane::send(std::string instance_id, std::string topic, std::string payload) {
  return submit(Kind::send, instance_id, std::move(topic), 0, std::move(payload));
}

SendStatus RedisBackplane::broadcast(std::string topic, std::string payload) {
  return submit(Kind::broadcast, {}, std::move(topic), 0, std::move(payload));
}

asio::awaitable<Reply> RedisBackplane::request(std::string instance_id, std::string topic,
                                               std::string payload,
                                               std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) timeout = config_.request_timeout;
  co_return co_await dispatch_->request(std::move(instance_id), std::move(topic),
                                        std::move(payload), timeout);
}

void RedisBackplane::on_request(const std::string& topic, RequestHandler handler) {
  dispatch_->set_request_handler(topic, std::move(handler));
}

std::vector<std::string> RedisBackplane::members() const {
  return {members_.begin(), members_.end()};
}

void RedisBackplane::on_membership(MembershipHandler handler) {
  dispatch_->add_membership_handler(std::move(handler));
}

BackplaneStatus RedisBackplane::status() const {
  auto s = counters_;
  s.members = members();
  s.unacked = inflight_ + queue_.size();
  return s;
}

void RedisBackplane::on_channel_message(const char* ch, std::size_t ch_len, const char* body,
                                        std::size_t body_len) {
  FrameReader reader(std::string_view(body, body_len));
  auto f = reader.next();
  if (!f) {
    log()->debug("malformed message on {}: {}", std::string_view(ch, ch_len), reader.error());
    return;
  }
  if (f->type == FrameType::joined || f->type == FrameType::left) {
    if (f->origin == id_) return;
    if (f->type == FrameType::joined) announced_[f->origin] = std::chrono::steady_clock::now();
    else announced_.erase(f->origin);
    member_seen(f->origin, f->type == FrameType::joined);
    return;
  }
  if (f->type != FrameType::deliver) return;
  ++counters_.delivered;
  dispatch_->deliver(*f);
}

}  // namespace tether::mesh
