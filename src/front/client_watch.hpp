#pragma once
// Private to src/front: notices a client that leaves while the front door
// waits on the instance for more of a streamed response (Server-Sent Events,
// long polls), and cancels the upstream read so the instance connection is
// closed at once instead of at the instance's or upstream_response's timeout.
#include <sys/socket.h>

#include <cerrno>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

namespace tether::front {

class ClientDepartureWatch {
 public:
  // Starts watching `client` for EOF or reset; on either, cancels every
  // pending operation on `upstream`. Both sockets must outlive the watch,
  // and no other read may be pending on `client` while it watches (the
  // proxy path only writes to the client while relaying a response).
  ClientDepartureWatch(boost::asio::ip::tcp::socket& client,
                       boost::asio::ip::tcp::socket& upstream)
      : client_(client), state_(std::make_shared<State>()) {
    state_->upstream = &upstream;
    client_.async_wait(boost::asio::socket_base::wait_read,
                       [st = state_, fd = client_.native_handle()](boost::system::error_code ec) {
                         on_readable(st, fd, ec);
                       });
  }
  // Stops watching: the pending wait is cancelled and its handler touches
  // neither socket.
  ~ClientDepartureWatch() {
    state_->upstream = nullptr;
    boost::system::error_code ignored;
    client_.cancel(ignored);
  }
  ClientDepartureWatch(const ClientDepartureWatch&) = delete;
  ClientDepartureWatch& operator=(const ClientDepartureWatch&) = delete;

  // True when the client left and the upstream was cancelled because of it.
  bool departed() const { return state_->departed; }

 private:
  struct State {
    boost::asio::ip::tcp::socket* upstream = nullptr;
    bool departed = false;
  };
  static void on_readable(const std::shared_ptr<State>& st, int fd, boost::system::error_code ec) {
    if (ec || !st->upstream) return;  // cancelled, or the watch already ended
    char c;
    ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return;  // bytes (a pipelined request, a TLS record): stop watching
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    st->departed = true;  // EOF or reset
    boost::system::error_code ignored;
    st->upstream->cancel(ignored);
  }

  boost::asio::ip::tcp::socket& client_;
  std::shared_ptr<State> state_;
};

}  // namespace tether::front
