#pragma once
// Private to src/front/proxy: the few things the relay and the tunnel do to
// a stream beyond reading and writing it, for every stream type they are
// instantiated with (beast::tcp_stream, beast::ssl_stream over it, and the
// in-memory beast::test::stream of the tier-2 tests). Decided at compile
// time: no virtual call, no allocation.
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <chrono>
#include <cstring>
#include <type_traits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>

namespace tether::front::proxy {

// True when the stream's lowest layer is a TCP socket with a deadline
// (beast::tcp_stream, directly or under TLS).
template <class Stream>
constexpr bool kOnSocket = requires(Stream& s) {
  boost::beast::get_lowest_layer(s).socket();
  boost::beast::get_lowest_layer(s).expires_never();
};

// True for a bare TCP socket, on any executor: what a tunnel holds once the
// exchange handed it over (Beast's stream, with its two deadline timers, is
// released then: an idle tunnel is two sockets, two waits and the tunnel
// object).
template <class Stream>
constexpr bool kRawSocket = requires {
  typename Stream::executor_type;
  requires std::is_same_v<Stream, boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                                   typename Stream::executor_type>>;
};

// True for a plain TCP stream, whose readiness can be awaited without a
// buffer (a TLS stream may hold decrypted bytes the socket does not show).
template <class Stream>
constexpr bool kWaitable = std::is_same_v<Stream, boost::beast::tcp_stream> || kRawSocket<Stream>;

// The TCP socket under a stream: a bare socket, Beast's stream, or TLS over
// Beast's stream.
template <class Stream>
auto& socket_of(Stream& s) {
  if constexpr (kRawSocket<Stream>)
    return s;
  else
    return boost::beast::get_lowest_layer(s).socket();
}

// True for a client stream that learns by itself when its client leaves (an
// HTTP/2 stream, reset by the client): given the upstream socket while a
// streamed response is relayed, it cancels the upstream read when that
// happens (front/h2_session.hpp).
template <class Client>
constexpr bool kSelfWatching = requires(Client& c, boost::asio::ip::tcp::socket* s) {
  c.departed();
  c.watch_upstream(s);
};

// True for a client stream that takes the response as parsed (an HTTP/2
// stream, which hands it to nghttp2): the relay gives it the response header
// and the body as it comes, unframed, instead of HTTP/1.1 bytes it would
// have to parse again (front/h2_session.hpp).
template <class Client>
constexpr bool kTakesResponse = requires(Client& c,
                                         const boost::beast::http::response_header<>& head,
                                         const char* data, std::size_t n, bool more) {
  c.write_response(head, data, n, more);
};

// The guard kSelfWatching clients return; nothing for the others.
struct NoWatch {
  void reset() {}
};

// Whether the client left (only self-watching clients know).
template <class Client>
bool client_departed(Client& c) {
  if constexpr (kSelfWatching<Client>)
    return c.departed();
  else
    return false;
}

// Parts together up to this size are joined into one send() by write_now.
inline constexpr std::size_t kJoinBelow = 2048;

// Writes what the socket takes of `parts` at once, without waiting and
// without the event loop: returns the bytes written (0 on any error, which
// the asynchronous write that follows then meets itself). Only on plain TCP
// streams (kWaitable); 0 on the others. A small response or request header
// fits the socket's buffer nearly always, so the relay's writes complete
// here: no deadline timer, no completion posted through the loop.
template <class Stream, std::size_t N>
std::size_t write_now(Stream& s, const std::array<boost::asio::const_buffer, N>& parts) {
  if constexpr (kWaitable<Stream>) {
    std::array<::iovec, N> iov;
    std::size_t count = 0;
    for (const auto& p : parts)
      if (p.size()) iov[count++] = {const_cast<void*>(p.data()), p.size()};
    if (count == 0) return 0;
    const int fd = socket_of(s).native_handle();
    constexpr int kFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
    // One buffer goes by send(), which the kernel takes without the
    // msghdr and iovec copies of sendmsg(); a small message in parts (a
    // header and a short body) is joined first for the same reason.
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) total += iov[i].iov_len;
    if (count == 1 || total <= kJoinBelow) {
      std::array<char, kJoinBelow> joined;
      const void* data = iov[0].iov_base;
      if (count > 1) {
        std::size_t at = 0;
        for (std::size_t i = 0; i < count; ++i) {
          std::memcpy(joined.data() + at, iov[i].iov_base, iov[i].iov_len);
          at += iov[i].iov_len;
        }
        data = joined.data();
      }
      const ::ssize_t n = ::send(fd, data, total, kFlags);
      return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    ::msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    const ::ssize_t n = ::sendmsg(fd, &msg, kFlags);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  } else {
    return 0;
  }
}

// Sets the deadline of the stream's next operations (none on streams
// without one).
template <class Stream>
void set_deadline(Stream& s, std::chrono::steady_clock::duration d) {
  if constexpr (kOnSocket<Stream>) boost::beast::get_lowest_layer(s).expires_after(d);
}

template <class Stream>
void clear_deadline(Stream& s) {
  if constexpr (kOnSocket<Stream>) boost::beast::get_lowest_layer(s).expires_never();
}

// Passes an EOF on: the peer reads EOF, this side may still read. (An
// in-memory test stream can only close both ways.)
template <class Stream>
void half_close(Stream& s) {
  boost::system::error_code ignored;
  if constexpr (kOnSocket<Stream>)
    boost::beast::get_lowest_layer(s).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send,
                                                        ignored);
  else if constexpr (kRawSocket<Stream>)
    s.shutdown(Stream::shutdown_send, ignored);
  else
    s.close();
}

// Closes the stream both ways; pending operations complete with
// operation_aborted. May run twice.
template <class Stream>
void close_stream(Stream& s) {
  boost::system::error_code ignored;
  if constexpr (kOnSocket<Stream>)
    boost::beast::get_lowest_layer(s).socket().close(ignored);
  else if constexpr (kRawSocket<Stream>)
    s.close(ignored);
  else
    s.close();
}

}  // namespace tether::front::proxy
