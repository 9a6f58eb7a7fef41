// net::WriteQueue: the one queue a connection's producers push to and its
// writer coroutine sleeps on.
#include "tether/net/write_queue.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

namespace tether::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(WriteQueue, APushWakesTheWriterWhichTakesItemsInOrder) {
  asio::io_context io;
  WriteQueue<std::string> q(io.get_executor());
  std::vector<std::string> written;
  auto writer = [&]() -> asio::awaitable<void> {
    while (written.size() < 3) {
      if (q.empty()) {
        EXPECT_TRUE(co_await q.wait());
        continue;
      }
      written.push_back(std::move(q.front()));
      q.pop_front();
    }
  };
  auto done = asio::co_spawn(io, writer(), asio::use_future);
  // Producers run after the writer went to sleep.
  asio::post(io, [&] {
    q.push("a");
    q.emplace("b");
    asio::post(io, [&] { q.push("c"); });
  });
  io.run();
  done.get();
  EXPECT_EQ(written, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(q.empty());
}

TEST(WriteQueue, WaitEndsAtItsDeadlineOrWhenWokenWithoutAnItem) {
  asio::io_context io;
  WriteQueue<int> q(io.get_executor());
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await q.wait(WriteQueue<int>::Clock::now() + 1ms)) << "the deadline passed";
    asio::post(io, [&] { q.wake(); });
    EXPECT_TRUE(co_await q.wait()) << "woken";
    EXPECT_TRUE(q.empty());
    q.push(7);
    q.clear();
    EXPECT_EQ(q.size(), 0u);
  };
  auto done = asio::co_spawn(io, body(), asio::use_future);
  io.run();
  done.get();
}

}  // namespace
}  // namespace tether::net
