#include "tether/front/config.hpp"

namespace tether::front {

const char* to_string(Balancing b) {
  switch (b) {
    case Balancing::least_requests: return "least-requests";
    case Balancing::round_robin: return "round-robin";
    case Balancing::power_of_two: return "power-of-two";
  }
  return "?";
}

}  // namespace tether::front
