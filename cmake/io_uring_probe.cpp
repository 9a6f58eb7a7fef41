// Configure-time probe (CMakeLists.txt, TETHER_IO_URING=AUTO): exits 0 when
// this machine's kernel gives a process an io_uring, as Asio will ask for
// one per io_context (16,384 entries).
#include <liburing.h>

int main() {
  io_uring ring;
  if (io_uring_queue_init(16384, &ring, 0) < 0) return 1;
  io_uring_queue_exit(&ring);
  return 0;
}
