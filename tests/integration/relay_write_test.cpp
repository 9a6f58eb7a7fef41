// The relay's writes (front/proxy/relay.hpp, MessageWriter) on real loopback
// TCP sockets in one process: what the socket takes at once is written by
// write_at_once itself, without a coroutine or the event loop
// (proxy::write_now), and a rest the socket cannot take yet waits in
// write_rest, byte-exact, under the writer's deadline.
#include <sys/socket.h>

#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <gtest/gtest.h>

#include "front/proxy/relay.hpp"

namespace tether::front::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Pair {
  asio::io_context ctx{1};
  beast::tcp_stream writer{ctx};
  tcp::socket reader{ctx};
  // Small socket buffers on both ends, so a large write cannot go out at once.
  Pair() {
    tcp::acceptor acc(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    reader.open(tcp::v4());
    reader.set_option(asio::socket_base::receive_buffer_size(16 * 1024));
    reader.connect(acc.local_endpoint());
    tcp::socket accepted(ctx);
    acc.accept(accepted);
    accepted.set_option(asio::socket_base::send_buffer_size(16 * 1024));
    writer.socket() = std::move(accepted);
  }
};

bhttp::response<bhttp::buffer_body> ok_response(std::size_t length) {
  bhttp::response<bhttp::buffer_body> res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_length, std::to_string(length));
  return res;
}

std::string read_exactly(tcp::socket& s, std::size_t n) {
  std::string got(n, '\0');
  asio::read(s, asio::buffer(got));
  return got;
}

TEST(RelayWrite, ASmallMessageGoesOutAtOnceWithoutTheEventLoop) {
  Pair p;
  const std::string body = "hello";
  auto res = ok_response(body.size());
  MessageWriter<false> out{res, http::Framing::length};
  // No coroutine, no loop: written by the call itself.
  EXPECT_TRUE(out.write_at_once(p.writer, body.data(), body.size(), false));
  EXPECT_TRUE(out.finished());
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  EXPECT_EQ(read_exactly(p.reader, head.size() + body.size()), head + body);
}

TEST(RelayWrite, WhatTheSocketCannotTakeYetWaitsAndArrivesByteExact) {
  Pair p;
  std::string body(4 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i % 251);
  auto res = ok_response(body.size());
  MessageWriter<false> out{res, http::Framing::length};
  // Nobody reads yet: 4 MiB cannot fit in the two small socket buffers.
  ASSERT_FALSE(out.write_at_once(p.writer, body.data(), body.size(), false));
  bool done = false;
  beast::error_code result;
  asio::co_spawn(
      p.ctx,
      [&]() -> asio::awaitable<void> {
        result = co_await out.write_rest(p.writer, std::chrono::seconds(30));
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  p.ctx.poll();
  ASSERT_FALSE(done);  // the rest waits on the socket
  std::string got;
  std::array<char, 64 * 1024> chunk{};
  const std::size_t want =
      std::string("HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n").size() + body.size();
  p.reader.non_blocking(true);
  for (int turns = 0; got.size() < want && turns < 10'000'000; ++turns) {
    boost::system::error_code ec;
    const std::size_t n = p.reader.read_some(asio::buffer(chunk), ec);
    if (!ec)
      got.append(chunk.data(), n);
    else
      ASSERT_EQ(ec, asio::error::would_block) << ec.message();
    p.ctx.poll();
    p.ctx.restart();
  }
  ASSERT_EQ(got.size(), want);
  ASSERT_TRUE(done);
  EXPECT_FALSE(result) << result.message();
  EXPECT_TRUE(out.finished());
  EXPECT_EQ(got.substr(got.size() - body.size()), body);
}

}  // namespace
}  // namespace tether::front::proxy
