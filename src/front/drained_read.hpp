#pragma once
// Private to src/front: a socket read that knows when it drained the socket.
//
// Asio 1.81's epoll reactor reads speculatively before it waits: a read
// started on a socket it last saw readable calls recvmsg at once, and Asio's
// own receive operation leaves the socket marked readable after every read
// that returned bytes. The keep-alive wait for a client's next request, right
// after its response was written, then always costs an EAGAIN recvmsg first
// (docs/benchmarks.md, "Why epoll tether makes about one read per request
// too many"). This operation reports `done_and_exhausted` when a read
// returned fewer bytes than asked: the socket was drained then, the reactor
// clears the mark under its own lock, and the next read only queues until
// epoll reports new bytes (each raises a new edge, which sets the mark
// again). One recvmsg per read that finds data, as HAProxy's.
//
// The operation has no deadline: its caller bounds it (the keep-alive wait
// is swept by its worker, front_server.cpp). Under io_uring it is a plain
// async_read_some (that backend has no speculative read).
#include <cerrno>
#include <cstddef>
#include <utility>

#include <sys/socket.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#if !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/memory.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#endif

namespace tether::front {

#if !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
namespace drained_detail {

using Socket = boost::asio::ip::tcp::socket;

// The socket's reactor state (its descriptor and per-descriptor data),
// reached through a pointer to basic_socket's protected member.
struct Access : Socket {
  static auto& impl(Socket& s) { return (s.*(&Access::impl_)).get_implementation(); }
};

// Built as Asio's own receive operation is (reactive_socket_recv_op): the
// memory from the handler's allocator (Asio's per-thread recycling cache for
// a coroutine), the handler called directly when it runs on the socket's
// executor, dispatched to its own otherwise (handler_work).
template <class Handler, class IoExecutor>
class ReadOp : public boost::asio::detail::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(ReadOp);

  ReadOp(int fd, boost::asio::mutable_buffer buffer, Handler& handler, const IoExecutor& io_ex)
      : reactor_op(boost::system::error_code(), &ReadOp::do_perform, &ReadOp::do_complete),
        fd_(fd),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

 private:
  static status do_perform(reactor_op* base) {
    auto* o = static_cast<ReadOp*>(base);
    for (;;) {
      const auto n = ::recv(o->fd_, o->buffer_.data(), o->buffer_.size(), 0);
      if (n > 0) {
        o->ec_ = {};
        o->bytes_transferred_ = static_cast<std::size_t>(n);
        return o->bytes_transferred_ < o->buffer_.size() ? done_and_exhausted : done;
      }
      if (n == 0) {
        o->ec_ = boost::asio::error::eof;
        o->bytes_transferred_ = 0;
        return done_and_exhausted;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
      o->bytes_transferred_ = 0;
      return done;
    }
  }

  // owner == nullptr: the io_context is being destroyed; the handler goes
  // without being called, as Asio's own operations do.
  static void do_complete(void* owner, boost::asio::detail::operation* base,
                          const boost::system::error_code&, std::size_t) {
    namespace detail = boost::asio::detail;
    auto* o = static_cast<ReadOp*>(base);
    ptr p = {detail::addressof(o->handler_), o, o};
    detail::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    // The handler moves out before the memory goes back (it may own it).
    detail::binder2<Handler, boost::system::error_code, std::size_t> handler(o->handler_, o->ec_,
                                                                             o->bytes_transferred_);
    p.h = detail::addressof(handler.handler_);
    p.reset();
    if (!owner) return;
    detail::fenced_block b(detail::fenced_block::half);
    w.complete(handler, handler.handler_);
  }

  int fd_;
  boost::asio::mutable_buffer buffer_;
  Handler handler_;
  boost::asio::detail::handler_work<Handler, IoExecutor> work_;
};

}  // namespace drained_detail
#endif

// Reads some bytes into `buffer` (completion: error_code, bytes), marking the
// socket drained after a short read. `buffer` must not be empty.
template <class Token>
auto async_read_drained(boost::asio::ip::tcp::socket& socket, boost::asio::mutable_buffer buffer,
                        Token&& token) {
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
  return socket.async_read_some(buffer, std::forward<Token>(token));
#else
  return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
      [](auto handler, boost::asio::ip::tcp::socket* s, boost::asio::mutable_buffer b) {
        using Handler = std::decay_t<decltype(handler)>;
        namespace detail = boost::asio::detail;
        auto io_ex = s->get_executor();
        auto& impl = drained_detail::Access::impl(*s);
        boost::system::error_code ec;
        if (impl.socket_ == detail::invalid_socket)
          ec = boost::asio::error::bad_descriptor;
        else if (!(impl.state_ & detail::socket_ops::non_blocking))
          // Once per socket, as Asio's own operations do (an ioctl each
          // time otherwise: two system calls per request).
          detail::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_, true, ec);
        if (ec) {
          auto ex = boost::asio::get_associated_executor(handler, io_ex);
          boost::asio::post(ex, [h = std::move(handler), ec]() mutable { std::move(h)(ec, 0); });
          return;
        }
        auto& reactor = boost::asio::use_service<detail::reactor>(
            boost::asio::query(io_ex, boost::asio::execution::context));
        using Op = drained_detail::ReadOp<Handler, decltype(io_ex)>;
        typename Op::ptr p = {detail::addressof(handler), Op::ptr::allocate(handler), nullptr};
        p.p = new (p.v) Op(impl.socket_, b, handler, io_ex);
        reactor.start_op(detail::reactor::read_op, impl.socket_, impl.reactor_data_, p.p,
                         /*is_continuation=*/false, /*allow_speculative=*/true);
        p.v = p.p = nullptr;
      },
      token, &socket, buffer);
#endif
}

}  // namespace tether::front
