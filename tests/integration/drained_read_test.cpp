// front/drained_read.hpp on real loopback TCP sockets in one process: what
// the relay's keep-alive wait and response-header read rely on.
#include <fcntl.h>
#include <sys/socket.h>

#include <array>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "front/drained_read.hpp"

namespace tether::front {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Pair {
  asio::io_context ctx{1};
  tcp::socket a{ctx}, b{ctx};
  Pair() {
    tcp::acceptor acc(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    a.connect(acc.local_endpoint());
    acc.accept(b);
  }
};

struct Result {
  boost::system::error_code ec;
  std::size_t n = 0;
  bool done = false;
};

// Starts one drained read on `s` into `buf`, recording its completion.
void start(tcp::socket& s, std::array<char, 64>& buf, Result& r) {
  async_read_drained(s, asio::buffer(buf), [&r](boost::system::error_code ec, std::size_t n) {
    r = {ec, n, true};
  });
}

// Runs the loop until `r` completed (bounded: a hang fails, it is not waited out).
void run_until(asio::io_context& ctx, const Result& r) {
  for (int i = 0; i < 100000 && !r.done; ++i) ctx.run_one_for(std::chrono::milliseconds(100));
  ctx.restart();
}

TEST(DrainedRead, ReadsWhatArrivesAndReadsAgainAfterAShortRead) {
  Pair p;
  std::array<char, 64> buf{};
  for (int round = 0; round < 3; ++round) {
    Result r;
    start(p.b, buf, r);  // started before the bytes exist: it must wake for them
    p.ctx.poll();
    EXPECT_FALSE(r.done);
    const std::string msg = "hello " + std::to_string(round);
    asio::write(p.a, asio::buffer(msg));
    run_until(p.ctx, r);
    ASSERT_TRUE(r.done);
    EXPECT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(std::string(buf.data(), r.n), msg);
  }
}

// The socket is put in non-blocking mode by the first read only, as Asio's
// own reads do: not an ioctl per read (two system calls per request on the
// relay path). Shown by taking the flag away behind Asio's back after the
// first read: a second read (its bytes already there, so it cannot block)
// must leave it away.
TEST(DrainedRead, SetsNonBlockingModeOncePerSocketNotPerRead) {
  Pair p;
  std::array<char, 64> buf{};
  asio::write(p.a, asio::buffer(std::string("one")));
  Result first;
  start(p.b, buf, first);
  run_until(p.ctx, first);
  ASSERT_TRUE(first.done);
  const int fd = p.b.native_handle();
  ASSERT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "the first read sets non-blocking mode";
  ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
  asio::write(p.a, asio::buffer(std::string("two")));
  Result second;
  start(p.b, buf, second);
  run_until(p.ctx, second);
  ASSERT_TRUE(second.done);
  EXPECT_EQ(std::string(buf.data(), second.n), "two");
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "the second read set the mode again";
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

TEST(DrainedRead, AFullBufferLeavesTheRestForTheNextRead) {
  Pair p;
  std::string big(100, 'x');
  asio::write(p.a, asio::buffer(big));
  std::array<char, 64> buf{};
  std::size_t total = 0;
  while (total < big.size()) {
    Result r;
    start(p.b, buf, r);
    run_until(p.ctx, r);
    ASSERT_TRUE(r.done);
    ASSERT_FALSE(r.ec) << r.ec.message();
    total += r.n;
  }
  EXPECT_EQ(total, big.size());
}

// One read pending on a fresh pair, then `act` on it: how the read ends.
template <class Act>
boost::system::error_code ending_after(Act act, bool close_first = false) {
  Pair p;
  if (close_first) p.b.close();
  std::array<char, 64> buf{};
  Result r;
  start(p.b, buf, r);
  p.ctx.poll();
  act(p);
  run_until(p.ctx, r);
  EXPECT_TRUE(r.done);
  return r.ec;
}

TEST(DrainedRead, EndOfStreamCancelAndCloseComplete) {
  EXPECT_EQ(ending_after([](Pair& p) { p.a.shutdown(tcp::socket::shutdown_send); }),
            asio::error::eof);
  // What the worker's deadline sweep does.
  EXPECT_EQ(ending_after([](Pair& p) { p.b.cancel(); }), asio::error::operation_aborted);
  EXPECT_EQ(ending_after([](Pair& p) { p.b.close(); }), asio::error::operation_aborted);
  // A closed socket: an error, not a hang.
  EXPECT_EQ(ending_after([](Pair&) {}, /*close_first=*/true), asio::error::bad_descriptor);
}

// A handler bound to another executor runs there, as with Asio's own
// reads: the pending read counts as work on that executor (so its run()
// would wait for it instead of returning), and the handler is not called
// inside the socket's loop.
TEST(DrainedRead, AHandlerBoundElsewhereRunsOnItsOwnExecutorWhichWaitsForIt) {
  Pair p;
  asio::io_context other{1};
  std::array<char, 64> buf{};
  Result r;
  bool on_other = false;
  async_read_drained(p.b, asio::buffer(buf),
                     asio::bind_executor(other, [&](boost::system::error_code ec, std::size_t n) {
                       on_other = other.get_executor().running_in_this_thread();
                       r = {ec, n, true};
                     }));
  other.poll();  // nothing to run yet, but the pending read is work: not stopped
  EXPECT_FALSE(other.stopped());
  asio::write(p.a, asio::buffer(std::string("late")));
  for (int i = 0; i < 100 && p.ctx.poll() == 0; ++i)
    p.ctx.run_one_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(r.done) << "the handler ran inside the socket's loop";
  for (int i = 0; i < 100 && !r.done; ++i) other.run_one_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(r.done);
  EXPECT_TRUE(on_other);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(std::string(buf.data(), r.n), "late");
}

TEST(DrainedRead, ACoroutineAwaitsItAndALoopDestroyedWithItPendingFreesIt) {
  auto p = std::make_unique<Pair>();
  std::optional<std::string> got;
  asio::co_spawn(
      p->ctx,
      [&]() -> asio::awaitable<void> {
        std::array<char, 64> buf{};
        auto [ec, n] = co_await async_read_drained(p->b, asio::buffer(buf),
                                                   asio::as_tuple(asio::use_awaitable));
        if (!ec) got = std::string(buf.data(), n);
        // A second read nobody answers: pending when the loop goes.
        co_await async_read_drained(p->b, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      },
      asio::detached);
  p->ctx.poll();
  asio::write(p->a, asio::buffer(std::string("ping")));
  for (int i = 0; i < 100000 && !got; ++i) p->ctx.run_one_for(std::chrono::milliseconds(100));
  EXPECT_EQ(got, "ping");
  p.reset();  // the pending operation and its coroutine are destroyed, not run (ASan: no leak)
}

}  // namespace
}  // namespace tether::front
