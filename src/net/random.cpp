#include "tether/net/random.hpp"

#include <random>

namespace tether::net {
namespace {
std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  return gen;
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string random_hex(std::size_t bytes) {
  std::string out;
  out.reserve(bytes * 2);
  auto& gen = generator();
  for (std::size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(gen() & 0xff);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::string random_guid() {
  auto& gen = generator();
  std::uint64_t hi = gen(), lo = gen();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  int n = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) buf[n++] = kHex[(v >> (i * 4)) & 0xf];
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

std::uint64_t random_below(std::uint64_t bound) {
  std::uniform_int_distribution<std::uint64_t> dist(0, bound - 1);
  return dist(generator());
}

}  // namespace tether::net
