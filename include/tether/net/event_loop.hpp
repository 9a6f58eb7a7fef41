#pragma once
// Which event loop this build of tether runs on: io_uring or epoll, chosen
// when it was built (CMake's TETHER_IO_URING; docs/front-door.md, "The event loop").
#include <string_view>

namespace tether::net {

// "io_uring" or "epoll".
std::string_view event_loop_name();

// Throws std::runtime_error with a message saying what to do when this
// process cannot have the event loop it was built for (a build on io_uring
// where the kernel or a seccomp profile refuses it). Call once at start,
// before any io_context is made.
void check_event_loop();

}  // namespace tether::net
