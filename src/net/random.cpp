#include "tether/net/random.hpp"

#include <pthread.h>
#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tether::net {
namespace {

// Bumped in every child after fork(): a thread's read-ahead block from
// before the fork is then thrown away, never shared with the parent.
std::atomic<unsigned> fork_generation{0};

void on_fork_child() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

void os_random(unsigned char* out, std::size_t n) {
  while (n > 0) {
    ssize_t got = ::getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "tether: getrandom failed: %s\n", std::strerror(errno));
      std::abort();
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

struct Pool {
  static constexpr std::size_t kSize = 256;
  unsigned char bytes[kSize];
  std::size_t used = kSize;
  unsigned generation = ~0u;

  void take(unsigned char* out, std::size_t n) {
    const unsigned g = fork_generation.load(std::memory_order_relaxed);
    if (g != generation) {
      generation = g;
      used = kSize;
    }
    if (n >= kSize) {
      os_random(out, n);
      return;
    }
    if (kSize - used < n) {
      os_random(bytes, kSize);
      used = 0;
    }
    std::memcpy(out, bytes + used, n);
    std::memset(bytes + used, 0, n);  // handed out once
    used += n;
  }
};

Pool& pool() {
  static const int registered = pthread_atfork(nullptr, nullptr, on_fork_child);
  (void)registered;
  thread_local Pool p;
  return p;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

void random_bytes(void* out, std::size_t n) { pool().take(static_cast<unsigned char*>(out), n); }

std::string random_hex(std::size_t bytes) {
  std::string out(bytes * 2, '0');
  unsigned char buf[64];
  for (std::size_t done = 0; done < bytes;) {
    std::size_t n = std::min(bytes - done, sizeof(buf));
    random_bytes(buf, n);
    for (std::size_t i = 0; i < n; ++i) {
      out[2 * (done + i)] = kHex[buf[i] >> 4];
      out[2 * (done + i) + 1] = kHex[buf[i] & 0xf];
    }
    done += n;
  }
  return out;
}

std::string random_guid() {
  std::uint64_t v[2];
  random_bytes(v, sizeof(v));
  std::uint64_t hi = v[0], lo = v[1];
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  int n = 0;
  auto put = [&](std::uint64_t x, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) buf[n++] = kHex[(x >> (i * 4)) & 0xf];
  };
  put(hi >> 32, 8);
  buf[n++] = '-';
  put((hi >> 16) & 0xffff, 4);
  buf[n++] = '-';
  put(hi & 0xffff, 4);
  buf[n++] = '-';
  put(lo >> 48, 4);
  buf[n++] = '-';
  put(lo & 0xffffffffffffULL, 12);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string random_base64url(std::size_t chars) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out(chars, 'A');
  unsigned char buf[64];
  for (std::size_t done = 0; done < chars;) {
    std::size_t n = std::min(chars - done, sizeof(buf));
    random_bytes(buf, n);
    for (std::size_t i = 0; i < n; ++i) out[done + i] = kAlphabet[buf[i] & 63];
    done += n;
  }
  return out;
}

std::uint64_t random_below(std::uint64_t bound) {
  // Rejection sampling: draw until the value falls under the largest
  // multiple of bound.
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % bound);
  for (;;) {
    std::uint64_t v;
    random_bytes(&v, sizeof(v));
    if (v < limit) return v % bound;
  }
}

}  // namespace tether::net
