#include "tether/plan/plan_admin.hpp"

#include <unistd.h>

#include <boost/json/serialize.hpp>

#include "tether/front/admin.hpp"
#include "tether/plan/mesh_watch.hpp"

namespace tether::plan {

namespace {

boost::json::object plan_status(const PlanView& v) {
  boost::json::object o;
  o["front_url"] = v.front_url;
  o["admin_url"] = v.admin_url;
  o["pid"] = static_cast<int>(::getpid());
  o["target_instances"] = v.supervisor->target();
  o["ready_instances"] = v.supervisor->ready_count();
  o["processes"] = v.supervisor->status_json();
  o["front"] = front::admin_status_json(*v.front);
  o["mesh"] = v.mesh ? v.mesh->status() : boost::json::value(nullptr);
  return o;
}

void reply_json(host::Context& c, unsigned status, const boost::json::object& o) {
  c.reply(status, boost::json::serialize(o) + "\n", "application/json");
}

}  // namespace

void add_admin_routes(host::Router& router, const PlanView* view) {
  // The front door's dashboard, /metrics and drain; /status is the plan's own.
  front::add_admin_routes(router, view->front, /*with_status=*/false);
  router.get("/status", [view](host::Context& c) { reply_json(c, 200, plan_status(*view)); });
  router.post("/scale", [view](host::Context& c) {
    auto text = c.query("instances");
    unsigned long n = 0;
    try {
      std::size_t used = 0;
      n = std::stoul(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
    } catch (...) {
      reply_json(c, 400, {{"error", "instances: expected a number 0-256 (got \"" + text + "\")"}});
      return;
    }
    if (n > 256) {
      reply_json(c, 400, {{"error", "instances: must be at most 256 (got " + text + ")"}});
      return;
    }
    view->supervisor->scale(static_cast<unsigned>(n));
    reply_json(c, 200, {{"target_instances", n}});
  });
  router.get("/logs", [view](host::Context& c) {
    auto prefix = c.query("instance");
    boost::json::array lines;
    if (prefix.size() >= 4)
      for (auto& l : view->supervisor->last_lines(prefix)) lines.emplace_back(l);
    if (lines.empty() && view->supervisor->kill_target(prefix).empty()) {
      reply_json(c, 404,
                 {{"error", "instance: no single instance id starts with \"" + prefix +
                                "\" (give at least 4 characters)"}});
      return;
    }
    reply_json(c, 200, {{"lines", std::move(lines)}});
  });
  router.post("/kill", [view](host::Context& c) {
    auto prefix = c.query("instance");
    auto id = view->supervisor->kill(prefix);
    if (id.empty()) {
      reply_json(c, 404,
                 {{"error", "instance: no single instance id starts with \"" + prefix +
                                "\" (give at least 4 characters)"}});
      return;
    }
    reply_json(c, 200, {{"killed", id}});
  });
}

}  // namespace tether::plan
