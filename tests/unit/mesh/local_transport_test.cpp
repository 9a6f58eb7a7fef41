// local_pair (transport.hpp): the in-process connection the hub's own
// member joins through. Messages arrive whole and in order; close() ends the
// other end's reads after what was written; abort() and a message over the
// reader's limit end both ends.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include "tether/mesh/transport.hpp"

namespace tether::mesh {
namespace {

// Runs `body` as a coroutine on a fresh io_context until it returns.
template <class F>
void run(F body) {
  asio::io_context io;
  auto done = asio::co_spawn(io, body(io.get_executor()), asio::use_future);
  io.run();
  done.get();
}

struct Read {
  bool ok;
  std::string bytes;
  bool text;
};

asio::awaitable<Read> read(WsTransport& t) {
  boost::beast::flat_buffer buf;
  bool text = false;
  bool ok = co_await t.read(buf, text);
  co_return Read{ok, boost::beast::buffers_to_string(buf.data()), text};
}

TEST(LocalPair, MessagesArriveWholeAndInOrderBothWays) {
  run([](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto [a, b] = local_pair(ex);
    EXPECT_TRUE(co_await a->write("hello", true));
    std::string one = "one", two = "two";
    std::vector<asio::const_buffer> parts{asio::buffer(one), asio::buffer(two)};
    EXPECT_TRUE(co_await a->write(parts));
    auto r1 = co_await read(*b);
    EXPECT_TRUE(r1.ok);
    EXPECT_EQ(r1.bytes, "hello");
    EXPECT_TRUE(r1.text);
    auto r2 = co_await read(*b);
    EXPECT_EQ(r2.bytes, "onetwo");
    EXPECT_FALSE(r2.text);
    EXPECT_TRUE(co_await b->write("back", false));
    auto r3 = co_await read(*a);
    EXPECT_EQ(r3.bytes, "back");
    EXPECT_EQ(a->peer(), "local");
  });
}

TEST(LocalPair, AReaderWaitsForTheNextMessage) {
  run([](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto [a, b] = local_pair(ex);
    WsTransport* writer = a.get();
    // The write is posted after the read has started waiting.
    asio::co_spawn(
        ex, [writer]() -> asio::awaitable<void> { co_await writer->write("late", false); },
        asio::detached);
    auto r = co_await read(*b);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.bytes, "late");
  });
}

TEST(LocalPair, CloseEndsTheOtherReadsAfterWhatWasWritten) {
  run([](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto [a, b] = local_pair(ex);
    co_await a->write("last words", false);
    co_await a->close();
    EXPECT_FALSE(co_await a->write("after close", false));
    auto r1 = co_await read(*b);
    EXPECT_TRUE(r1.ok);
    EXPECT_EQ(r1.bytes, "last words");
    auto r2 = co_await read(*b);
    EXPECT_FALSE(r2.ok);
    EXPECT_EQ(b->error(), "closed");
  });
}

TEST(LocalPair, AbortAndDestructionEndBothWays) {
  run([](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto [a, b] = local_pair(ex);
    co_await b->write("unread by a", false);
    a->abort();
    EXPECT_FALSE((co_await read(*a)).ok) << "what a had not read is dropped";
    EXPECT_FALSE(co_await b->write("to a dead end", false));
    EXPECT_FALSE((co_await read(*b)).ok);

    auto [c, d] = local_pair(ex);
    co_await c->write("sent before the end", false);
    c.reset();  // the process side of c went away
    auto r = co_await read(*d);
    EXPECT_TRUE(r.ok) << "what was written stays readable";
    EXPECT_FALSE((co_await read(*d)).ok);
  });
}

TEST(LocalPair, AMessageOverTheReadersLimitFailsThePair) {
  run([](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto [a, b] = local_pair(ex);
    b->set_read_limit(8);
    EXPECT_TRUE(co_await a->write("8 bytes!", false));
    EXPECT_FALSE(co_await a->write("nine byte", false));
    EXPECT_NE(a->error().find("too big"), std::string::npos) << a->error();
    EXPECT_TRUE((co_await read(*b)).ok);
    EXPECT_FALSE((co_await read(*b)).ok);
  });
}

}  // namespace
}  // namespace tether::mesh
