#include "tether/plan/supervisor.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>

#include "tether/net/endpoint.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"
#include "tether/plan/child_process.hpp"

namespace tether::plan {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {
// kill(2) for one child only: never a process group (pid <= 0).
void signal_child(pid_t pid, int sig) {
  if (pid > 0) ::kill(pid, sig);
}
}  // namespace

Supervisor::Supervisor(asio::io_context& ctx, const PlanConfig& config,
                       std::shared_ptr<front::InstanceTable> table, std::string executable)
    : ctx_(ctx), config_(config), table_(std::move(table)), executable_(std::move(executable)),
      log_(net::logger("plan")), sigchld_(ctx, SIGCHLD) {
  wait_for_sigchld();
}

void Supervisor::wait_for_sigchld() {
  sigchld_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    on_sigchld();
    wait_for_sigchld();
  });
}

void Supervisor::on_sigchld() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    reap(pid, status);
  }
}

void Supervisor::reap(pid_t pid, int status) {
  auto it = children_.find(pid);
  if (it == children_.end()) return;
  Child& c = it->second;
  bool was_ready = c.state == "up";
  table_->remove(c.id);
  std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  bool on_purpose = c.stop_on_purpose;
  if (on_purpose) log_->info("instance {} (pid {}) stopped: {}", c.id, pid, how);
  else log_->warn("instance {} (pid {}) {}", c.id, pid, how);
  if (c.out) {
    boost::system::error_code ignored;
    c.out->close(ignored);
  }
  children_.erase(it);
  if (on_purpose || shutting_down_) return;

  // Replace it, as the platform does: a new instance with a new id.
  early_deaths_ = was_ready ? 0 : early_deaths_ + 1;
  ++restarts_;
  unsigned running = 0;
  for (const auto& [p, ch] : children_)
    if (!ch.stop_on_purpose) ++running;
  if (running >= target_) return;
  if (early_deaths_ == 0) {
    spawn_one();
    return;
  }
  // Crash loop: back off 100 ms, 200 ms, ... up to 10 s.
  auto delay = std::chrono::milliseconds(std::min<long>(10'000, 100L << std::min(early_deaths_, 7u)));
  log_->warn("instance died before becoming ready ({} in a row); next start in {} ms",
             early_deaths_, delay.count());
  auto timer = std::make_shared<asio::steady_timer>(ctx_, delay);
  timer->async_wait([this, timer](boost::system::error_code ec) {
    if (ec || shutting_down_) return;
    unsigned live = 0;
    for (const auto& [p, ch] : children_)
      if (!ch.stop_on_purpose) ++live;
    if (live < target_) spawn_one();
  });
}

void Supervisor::spawn_one() {
  std::string id = net::random_hex(32);
  std::vector<std::string> argv{executable_, "serve", "--listen", "127.0.0.1", "--port", "0",
                                "--app", config_.app};
  if (!config_.config_file.empty()) {
    argv.push_back("--config");
    argv.push_back(config_.config_file);
  }
  argv.insert(argv.end(), config_.serve_args.begin(), config_.serve_args.end());
  if (!config_.command.empty()) {
    argv.push_back("--");
    argv.insert(argv.end(), config_.command.begin(), config_.command.end());
  }
  SpawnedChild sc;
  try {
    sc = spawn_child(argv, {"WEBSITE_INSTANCE_ID=" + id}, {"PORT"});
  } catch (const std::exception& e) {
    log_->error("cannot start an instance: {}", e.what());
    return;
  }
  Child c;
  c.id = id;
  c.pid = sc.pid;
  c.state = "starting";
  c.started = std::chrono::steady_clock::now();
  c.out = std::make_unique<asio::posix::stream_descriptor>(ctx_, sc.stdout_fd);
  children_.emplace(sc.pid, std::move(c));
  log_->info("starting instance {} (pid {})", id, sc.pid);
  asio::co_spawn(ctx_, read_ready_line(this, sc.pid), asio::detached);
}

// The instance's stdout: its ready line ("tether serve: instance ID
// listening on ADDR:PORT"), and every other line (an app's output, before
// and after) printed with the instance's short id, as foreman does, and
// kept for `tether logs`.
asio::awaitable<void> Supervisor::read_ready_line(Supervisor* self, pid_t pid) {
  auto it = self->children_.find(pid);
  if (it == self->children_.end()) co_return;
  auto* out = it->second.out.get();
  const std::string id = it->second.id;
  const std::string marker = "tether serve: instance " + id + " listening on ";
  std::string buffer;
  bool ready = false;
  asio::steady_timer deadline(self->ctx_, self->config_.start_timeout);
  deadline.async_wait([out, &ready](boost::system::error_code ec) {
    if (!ec && !ready) out->cancel();
  });
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(*out, asio::dynamic_buffer(buffer, 64 * 1024),
                                                   '\n', use_nothrow);
    if (ec == asio::error::not_found)
      n = buffer.size();  // a line longer than 64 KiB: split
    else if (ec) {
      if (!ready) {
        it = self->children_.find(pid);
        if (it != self->children_.end())
          self->log_->error("instance {} (pid {}) did not report its port ({}); killing it", id,
                            pid,
                            ec == asio::error::operation_aborted
                                ? "start timeout after " +
                                      std::to_string(self->config_.start_timeout.count()) + " ms"
                                : ec.message());
        signal_child(pid, SIGKILL);
      }
      co_return;
    }
    std::string line = buffer.substr(0, n);
    buffer.erase(0, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    it = self->children_.find(pid);
    if (it == self->children_.end()) co_return;  // died meanwhile
    Child& c = it->second;
    if (!ready && line.rfind(marker, 0) == 0) {
      ready = true;
      deadline.cancel();
      if (!self->instance_ready(c, line.substr(marker.size()))) co_return;
      continue;
    }
    std::printf("%.8s | %s\n", id.c_str(), line.c_str());
    std::fflush(stdout);
    c.last_lines.push_back(std::move(line));
    while (c.last_lines.size() > kKeptLines) c.last_lines.pop_front();
  }
}

bool Supervisor::instance_ready(Child& c, const std::string& where) {
  const pid_t pid = c.pid;
  auto hp = net::parse_host_port(where.substr(0, where.find_first_of(" \r\n")));
  if (!hp) {
    log_->error("instance {} (pid {}) reported no port (\"{}\"); killing it", c.id, pid, where);
    signal_child(pid, SIGKILL);
    return false;
  }
  c.port = hp->port;
  if (c.stop_on_purpose) return true;
  try {
    table_->add(c.id, hp->to_string());
  } catch (const std::exception& e) {
    log_->error("instance {}: {}", c.id, e.what());
    signal_child(pid, SIGKILL);
    return false;
  }
  c.state = "up";
  early_deaths_ = 0;
  log_->info("instance {} (pid {}) up on {}", c.id, pid, hp->to_string());
  return true;
}

std::vector<std::string> Supervisor::last_lines(const std::string& id_prefix) const {
  const Child* match = nullptr;
  for (const auto& [pid, c] : children_)
    if (c.id.compare(0, id_prefix.size(), id_prefix) == 0) {
      if (match) return {};
      match = &c;
    }
  if (!match) return {};
  return {match->last_lines.begin(), match->last_lines.end()};
}

void Supervisor::scale(unsigned instances) {
  target_ = instances;
  std::vector<Child*> live;
  for (auto& [pid, c] : children_)
    if (!c.stop_on_purpose) live.push_back(&c);
  for (auto n = live.size(); n < target_; ++n) spawn_one();
  if (live.size() <= target_) return;
  // Scale in: stop the newest first.
  std::sort(live.begin(), live.end(),
            [](const Child* a, const Child* b) { return a->started > b->started; });
  for (std::size_t i = 0; i < live.size() - target_; ++i) {
    Child& c = *live[i];
    c.stop_on_purpose = true;
    c.state = "draining";
    log_->info("scaling in: draining instance {} (pid {})", c.id, c.pid);
    asio::co_spawn(ctx_, drain_and_stop(this, c.pid), asio::detached);
  }
}

asio::awaitable<void> Supervisor::drain_and_stop(Supervisor* self, pid_t pid) {
  // Drain: no new users; in-flight requests and tunnels get up to drain_grace.
  auto it = self->children_.find(pid);
  if (it == self->children_.end()) co_return;
  std::string id = it->second.id;
  if (auto inst = self->table_->find(id)) {
    inst->draining = true;
    asio::steady_timer timer(self->ctx_);
    auto deadline = std::chrono::steady_clock::now() + self->config_.drain_grace;
    while (std::chrono::steady_clock::now() < deadline &&
           (inst->outstanding.load() > 0 || inst->tunnels.load() > 0)) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(use_nothrow);
    }
    if (inst->outstanding.load() > 0 || inst->tunnels.load() > 0)
      self->log_->warn("instance {}: drain grace over with {} request(s) and {} tunnel(s) open",
                       id, inst->outstanding.load(), inst->tunnels.load());
  }
  self->table_->remove(id);  // users still pinned to it re-pin
  it = self->children_.find(pid);
  if (it == self->children_.end()) co_return;
  it->second.state = "stopping";
  self->log_->info("scaling in: stopping instance {} (pid {})", id, pid);
  signal_child(pid, SIGTERM);
}

std::string Supervisor::kill_target(const std::string& id_prefix) const {
  if (id_prefix.size() < 4) return {};
  const Child* match = nullptr;
  for (const auto& [pid, c] : children_)
    if (c.id.compare(0, id_prefix.size(), id_prefix) == 0) {
      if (match) return {};
      match = &c;
    }
  return match ? match->id : std::string();
}

std::string Supervisor::kill(const std::string& id_prefix) {
  if (id_prefix.size() < 4) return {};
  Child* match = nullptr;
  for (auto& [pid, c] : children_) {
    if (c.id.compare(0, id_prefix.size(), id_prefix) == 0) {
      if (match) return {};
      match = &c;
    }
  }
  if (!match) return {};
  log_->warn("killing instance {} (pid {}) on request", match->id, match->pid);
  signal_child(match->pid, SIGKILL);
  return match->id;
}

unsigned Supervisor::ready_count() const {
  unsigned n = 0;
  for (const auto& [pid, c] : children_) {
    if (c.state != "up") continue;
    auto inst = table_->find(c.id);
    if (inst && inst->in_rotation.load()) ++n;  // health-checked, taking traffic
  }
  return n;
}

boost::json::array Supervisor::status_json() const {
  boost::json::array out;
  auto now = std::chrono::steady_clock::now();
  for (const auto& [pid, c] : children_) {
    boost::json::object o;
    o["id"] = c.id;
    o["pid"] = pid;
    o["port"] = c.port;
    o["state"] = c.state;
    o["uptime_s"] =
        std::chrono::duration_cast<std::chrono::seconds>(now - c.started).count();
    out.push_back(std::move(o));
  }
  return out;
}

asio::awaitable<void> Supervisor::shutdown() {
  shutting_down_ = true;
  target_ = 0;
  for (auto& [pid, c] : children_) {
    c.stop_on_purpose = true;
    c.state = "stopping";
    table_->remove(c.id);
    signal_child(pid, SIGTERM);
  }
  asio::steady_timer timer(ctx_);
  auto deadline = std::chrono::steady_clock::now() + config_.stop_grace;
  bool killed = false;
  while (!children_.empty()) {
    if (!killed && std::chrono::steady_clock::now() >= deadline) {
      for (auto& [pid, c] : children_) {
        log_->warn("instance {} (pid {}) ignored SIGTERM; SIGKILL", c.id, pid);
        signal_child(pid, SIGKILL);
      }
      killed = true;
    }
    on_sigchld();  // reap without waiting for the signal to be delivered
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(use_nothrow);
  }
}

}  // namespace tether::plan
