#include "tether/net/event_loop.hpp"

#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

namespace tether::net {

std::string_view event_loop_name() {
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
  return "io_uring";
#else
  return "epoll";
#endif
}

void check_event_loop() {
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
  try {
    // Asio opens the ring when the first I/O object needs it.
    boost::asio::io_context probe{1};
    boost::asio::steady_timer timer{probe};
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(
        std::string("this build of tether runs on io_uring, which this system refuses (") +
        e.what() +
        "); allow io_uring (a container's seccomp profile may block it: io_uring_setup, "
        "io_uring_enter) or build tether with -DTETHER_IO_URING=OFF");
  }
#endif
}

}  // namespace tether::net
