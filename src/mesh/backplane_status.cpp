#include <boost/json/array.hpp>

#include "tether/mesh/backplane.hpp"

namespace tether::mesh {

boost::json::object status_json(const BackplaneStatus& s) {
  boost::json::array members;
  for (const auto& m : s.members) members.push_back(boost::json::value(m));
  return boost::json::object{{"role", s.role},
                             {"epoch", s.epoch},
                             {"hub", s.hub_id},
                             {"link", s.link},
                             {"members", std::move(members)},
                             {"published", s.published},
                             {"delivered", s.delivered},
                             {"duplicates_dropped", s.duplicates_dropped},
                             {"resent", s.resent},
                             {"unacked", s.unacked},
                             {"joins", s.joins},
                             {"elections_won", s.elections_won},
                             {"elections_lost", s.elections_lost},
                             {"store_errors", s.store_errors},
                             {"auth_refused", s.auth_refused},
                             {"members_cut_off", s.members_cut_off},
                             {"cut_off", s.cut_off},
                             {"undeliverable", s.undeliverable},
                             {"resends_dropped", s.resends_dropped}};
}

}  // namespace tether::mesh
