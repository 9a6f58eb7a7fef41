#pragma once
// Starting real tether processes on ports the OS picks, and reading what
// they answer: the building blocks of the loopback integration tests.
#include <chrono>
#include <cstdint>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "support/process.hpp"
#include "tether/http/client.hpp"

namespace tether::test {

// One `tether serve` instance.
struct InstanceProc {
  std::unique_ptr<Process> proc;
  std::string id;
  std::uint16_t port = 0;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

// Starts `tether serve --port 0` with WEBSITE_INSTANCE_ID=`id` (random when
// empty) and waits for its "listening on" line.
// The binary for a command with `args`: TETHER_MESHPROBE_BINARY
// (bench/meshprobe: tether plus the meshprobe app) for `--app meshprobe`,
// else the tether binary under test. start_instance and start_plan use it.
const char* binary_for(const std::vector<std::string>& args);

InstanceProc start_instance(std::string id = {}, std::vector<std::string> extra_args = {});

// One `tether front`.
struct FrontProc {
  std::unique_ptr<Process> proc;
  std::uint16_t port = 0;
};

// Starts `tether front --listen 127.0.0.1 --port 0 ARGS...`; waits until it
// listens.
FrontProc start_front(std::vector<std::string> args);

// A front door over `instances` (each as --instance id=addr) plus ARGS.
FrontProc start_front_for(const std::vector<InstanceProc*>& instances,
                          std::vector<std::string> args = {});

// One `tether up` plan.
struct PlanProc {
  std::unique_ptr<Process> proc;
  std::uint16_t port = 0;
  std::uint16_t admin_port = 0;
  std::string state_dir;

  boost::json::value status() const;  // GET /status on the admin endpoint
  // Polls status until `ready` instances are routed and exactly `ready`
  // processes are up (throws after a generous bound).
  void wait_ready(unsigned ready) const;
  // Runs `tether ARGS... --port P --state-dir D` (status/scale/kill); returns
  // exit code and stdout.
  std::pair<int, std::string> cli(std::vector<std::string> args) const;
};

PlanProc start_plan(std::vector<std::string> args);

// All Set-Cookie header values of a response.
std::vector<std::string> set_cookies(const http::Response& res);

// The value of cookie `name` among `set_cookies` ("" when absent).
std::string set_cookie_value(const http::Response& res, const std::string& name);

// The JSON body of a whoami response.
boost::json::object whoami(const http::Response& res);

// GET `target` on 127.0.0.1:port with an optional Cookie header (new
// connection each call).
http::Response get(std::uint16_t port, const std::string& target,
                   const std::string& cookie = {});

// Polls `pred` every 20 ms until it holds; false after `limit` (a bound that
// only turns a hang into a failure, never a timing assertion).
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Polls `pred` every 20 ms until it holds, for as long as `progress()` (a
// count that only grows while work is being done, e.g. messages received)
// keeps moving: false once it has not moved for `stall`, or after `limit`.
// For waits whose length depends on how loaded the machine is (a whole
// suite under sanitizers): a slow machine keeps the wait going, a stuck
// system fails after `stall`.
template <class Pred, class Progress>
bool eventually_while_progressing(Pred pred, Progress progress,
                                  std::chrono::seconds stall = std::chrono::seconds(30),
                                  std::chrono::seconds limit = std::chrono::seconds(300)) {
  const auto start = std::chrono::steady_clock::now();
  auto last_move = start;
  auto seen = progress();
  for (;;) {
    if (pred()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (auto p = progress(); p != seen) {
      seen = p;
      last_move = now;
    }
    if (now - last_move > stall || now - start > limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace tether::test
