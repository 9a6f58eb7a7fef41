// Router middleware: before hooks in order, after hooks in reverse, a before
// hook that answers skips the rest, 404s pass through middleware too.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "tether/host/router.hpp"

namespace tether::host {
namespace {

struct Dispatch {
  http::Request request{Verb::get, "/", 11};
  http::Response response;
  http::ConnectionInfo connection;
  InstanceInfo instance{"test-instance", 1};

  void go(const Router& router, const std::string& target) {
    request.target(target);
    Context ctx{request, response, connection, instance, {}, nullptr, nullptr};
    asio::io_context io;
    auto done = asio::co_spawn(io, router.dispatch(ctx), asio::use_future);
    io.run();
    done.get();
  }
};

asio::awaitable<bool> async_gate(Context& c) {
  if (c.path() == "/private") {
    c.reply(403, "no\n");
    co_return false;
  }
  co_return true;
}

TEST(RouterMiddleware, OrderAndShortCircuit) {
  std::vector<std::string> log;
  Router r;
  r.before([&](Context&) {
    log.push_back("b1");
    return true;
  });
  r.after([&](Context& c) {
    log.push_back("a1");
    c.response.set("X-Seen", "1");
  });
  r.use(Middleware{async_gate, {}});
  r.use(Middleware{[&](Context& c) -> asio::awaitable<bool> {
                     log.push_back("b3");
                     return async_gate(c);
                   },
                   {}});
  r.after([&](Context&) { log.push_back("a4"); });
  r.get("/", [&](Context& c) {
    log.push_back("handler");
    c.reply(200, "ok");
  });

  Dispatch ok;
  ok.go(r, "/");
  EXPECT_EQ(ok.response.result_int(), 200u);
  EXPECT_EQ(log, (std::vector<std::string>{"b1", "b3", "handler", "a4", "a1"}));
  EXPECT_EQ(ok.response["X-Seen"], "1");

  log.clear();
  Dispatch denied;
  denied.go(r, "/private");
  EXPECT_EQ(denied.response.result_int(), 403u);
  EXPECT_EQ(log, (std::vector<std::string>{"b1", "a1"})) << "hooks after the gate are skipped";

  log.clear();
  Dispatch missing;
  missing.go(r, "/nothing");
  EXPECT_EQ(missing.response.result_int(), 404u);
  EXPECT_EQ(log, (std::vector<std::string>{"b1", "b3", "a4", "a1"}));
}

TEST(RouterMiddleware, SessionWithoutHostIsALogicError) {
  Router r;
  r.get("/", [](Context& c) { c.session(); });
  Dispatch run;
  EXPECT_THROW(run.go(r, "/"), std::logic_error);
}

}  // namespace
}  // namespace tether::host
