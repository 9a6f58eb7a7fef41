#pragma once
// Shared by the config unit tests: the message of the net::ConfigError that
// `f` throws, or a test failure (and "") when it throws none.
#include <string>

#include <gtest/gtest.h>

#include "tether/net/config_reader.hpp"

namespace tether::test {

template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const net::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return {};
}

}  // namespace tether::test
