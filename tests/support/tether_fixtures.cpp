#include "support/tether_fixtures.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tether/net/random.hpp"

namespace tether::test {

namespace bhttp = boost::beast::http;

namespace {
// "warn" keeps the tests' output short; TETHER_TEST_LOG_LEVEL=info (or
// debug) shows what the processes did when a test fails.
std::string log_level() {
  const char* v = std::getenv("TETHER_TEST_LOG_LEVEL");
  return v && *v ? v : "warn";
}
}  // namespace

const char* binary_for(const std::vector<std::string>& args) {
  auto app = std::find(args.begin(), args.end(), "--app");
  if (app != args.end() && std::next(app) != args.end() && *std::next(app) == "meshprobe")
    return TETHER_MESHPROBE_BINARY;
  return TETHER_BINARY;
}

InstanceProc start_instance(std::string id, std::vector<std::string> extra_args) {
  if (id.empty()) id = net::random_hex(32);
  std::vector<std::string> argv{
      binary_for(extra_args), "serve",    "--listen", "127.0.0.1", "--port", "0",
      "--log-level",          log_level()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  InstanceProc out;
  out.id = id;
  out.proc = std::make_unique<Process>(argv, std::vector<std::string>{"WEBSITE_INSTANCE_ID=" + id});
  auto m = out.proc->wait_for_line(R"(listening on 127\.0\.0\.1:(\d+))");
  out.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  return out;
}

FrontProc start_front(std::vector<std::string> args) {
  std::vector<std::string> argv{TETHER_BINARY, "front", "--listen",    "127.0.0.1",
                                "--port",      "0",     "--log-level", log_level()};
  argv.insert(argv.end(), args.begin(), args.end());
  FrontProc out;
  out.proc = std::make_unique<Process>(argv);
  auto m = out.proc->wait_for_line(R"(listening on 127\.0\.0\.1:(\d+))");
  out.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  return out;
}

FrontProc start_front_for(const std::vector<InstanceProc*>& instances,
                          std::vector<std::string> args) {
  std::vector<std::string> all;
  for (auto* i : instances) {
    all.push_back("--instance");
    all.push_back(i->id + "=" + i->address());
  }
  all.insert(all.end(), args.begin(), args.end());
  return start_front(all);
}

PlanProc start_plan(std::vector<std::string> args) {
  PlanProc out;
  static int n = 0;
  out.state_dir = temp_dir() + "/plan-state-" + std::to_string(n++);
  std::vector<std::string> argv{binary_for(args), "up",          "--port",      "0",
                                "--state-dir",    out.state_dir, "--log-level", log_level()};
  // Tests were written against the whoami app; `tether up` now defaults to signalr-chat.
  if (std::find(args.begin(), args.end(), "--app") == args.end())
    argv.insert(argv.end(), {"--app", "whoami"});
  argv.insert(argv.end(), args.begin(), args.end());
  out.proc = std::make_unique<Process>(argv);
  auto m = out.proc->wait_for_line(R"(ready behind http://127\.0\.0\.1:(\d+))");
  out.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  auto a = out.proc->wait_for_line(R"(admin http://127\.0\.0\.1:(\d+))");
  out.admin_port = static_cast<std::uint16_t>(std::stoi(a[1]));
  return out;
}

boost::json::value PlanProc::status() const {
  http::Client c("127.0.0.1", admin_port, std::chrono::seconds(10));
  return boost::json::parse(c.get("/status").body());
}

void PlanProc::wait_ready(unsigned ready) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto s = status().as_object();
    unsigned up = 0;
    for (const auto& p : s.at("processes").as_array())
      if (p.at("state").as_string() == "up") ++up;
    unsigned routed = 0;
    for (const auto& i : s.at("front").at("instances").as_array())
      if (i.at("state").as_string() == "up") ++routed;
    if (up == ready && routed == ready && s.at("front").at("instances").as_array().size() == ready &&
        s.at("processes").as_array().size() == ready)
      return;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("plan did not reach " + std::to_string(ready) +
                               " ready instances: " + boost::json::serialize(s));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::pair<int, std::string> PlanProc::cli(std::vector<std::string> args) const {
  std::vector<std::string> argv{TETHER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--port", std::to_string(port), "--state-dir", state_dir});
  Process p(argv);
  int rc = p.wait();
  std::string out = p.drain_stdout();
  if (rc != 0) out += p.stderr_text();
  return {rc, out};
}

std::vector<std::string> set_cookies(const http::Response& res) {
  std::vector<std::string> out;
  auto range = res.equal_range(bhttp::field::set_cookie);
  for (auto it = range.first; it != range.second; ++it) out.emplace_back(it->value());
  return out;
}

std::string set_cookie_value(const http::Response& res, const std::string& name) {
  for (const auto& c : set_cookies(res)) {
    if (c.rfind(name + "=", 0) == 0) {
      auto v = c.substr(name.size() + 1);
      return v.substr(0, v.find(';'));
    }
  }
  return {};
}

boost::json::object whoami(const http::Response& res) {
  return boost::json::parse(res.body()).as_object();
}

http::Response get(std::uint16_t port, const std::string& target, const std::string& cookie) {
  http::Client c("127.0.0.1", port, std::chrono::seconds(30));
  http::Request req{bhttp::verb::get, target, 11};
  if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
  return c.send(std::move(req));
}

}  // namespace tether::test
