#include "tether/plan/plan_client.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "tether/http/client.hpp"
#include "tether/plan/plan_config.hpp"

namespace tether::plan {

namespace json = boost::json;

net::HostPort find_admin(const std::string& admin, std::uint16_t front_port,
                         const std::string& state_dir) {
  std::string text = admin;
  if (text.empty()) {
    auto file = resolve_state_dir(state_dir) + "/plan-" + std::to_string(front_port) + ".json";
    std::ifstream in(file);
    if (!in)
      throw std::runtime_error("no plan is running on port " + std::to_string(front_port) +
                               " (no " + file + "); start one with `tether up` or pass --admin");
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = json::parse(ss.str());
    text = std::string(v.at("admin_url").as_string());
  }
  if (text.rfind("http://", 0) == 0) text = text.substr(7);
  while (!text.empty() && text.back() == '/') text.pop_back();
  auto hp = net::parse_host_port(text);
  if (!hp) throw std::runtime_error("admin address must be host:port (got \"" + admin + "\")");
  return *hp;
}

namespace {
json::value call(const net::HostPort& admin, bool post, const std::string& target,
                 unsigned& status) {
  http::Client client(admin.host, admin.port, std::chrono::seconds(10));
  auto res = post ? client.post(target) : client.get(target);
  status = res.result_int();
  return json::parse(res.body());
}
}  // namespace

int print_status(const net::HostPort& admin, bool as_json) {
  unsigned status = 0;
  auto v = call(admin, false, "/status", status);
  if (as_json) {
    std::printf("%s\n", json::serialize(v).c_str());
    return status == 200 ? 0 : 1;
  }
  const auto& o = v.as_object();
  std::printf("front door  %s\n", std::string(o.at("front_url").as_string()).c_str());
  std::printf("admin       %s\n", std::string(o.at("admin_url").as_string()).c_str());
  std::printf("instances   %lld ready of %lld wanted\n\n",
              static_cast<long long>(o.at("ready_instances").to_number<long long>()),
              static_cast<long long>(o.at("target_instances").to_number<long long>()));
  // The mesh, when the instances run one.
  const json::object* mesh = nullptr;
  if (auto m = o.if_contains("mesh"); m && m->is_object()) mesh = &m->as_object();
  if (mesh) {
    const auto& hub = mesh->at("hub");
    std::printf("mesh        hub %s, epoch %lld, %.1f messages/s\n\n",
                hub.is_string() ? std::string(hub.as_string()).substr(0, 16).c_str() : "(none yet)",
                static_cast<long long>(mesh->at("epoch").to_number<long long>()),
                mesh->at("messages_per_second").to_number<double>());
  }
  auto role_of = [mesh](const std::string& id) -> std::string {
    if (!mesh) return "-";
    for (const auto& m : mesh->at("members").as_array())
      if (m.at("id").as_string() == id) return std::string(m.at("role").as_string());
    return "-";
  };
  // Join supervisor processes with front-door counters by id.
  const auto& routed = o.at("front").at("instances").as_array();
  std::printf("%-16s %-8s %-6s %-9s %10s %6s  %s\n", "INSTANCE", "PID", "PORT", "STATE", "REQUESTS",
              "BUSY", "MESH");
  for (const auto& p : o.at("processes").as_array()) {
    const auto& po = p.as_object();
    std::string id(po.at("id").as_string());
    std::string state(po.at("state").as_string());
    long long requests = 0, busy = 0;
    for (const auto& r : routed) {
      if (r.at("id").as_string() == id) {
        requests = r.at("requests").to_number<long long>();
        busy = r.at("outstanding").to_number<long long>();
        std::string fs(r.at("state").as_string());
        if (fs != "up") state = fs;
      }
    }
    std::printf("%-16s %-8lld %-6lld %-9s %10lld %6lld  %s\n", id.substr(0, 16).c_str(),
                po.at("pid").to_number<long long>(), po.at("port").to_number<long long>(),
                state.c_str(), requests, busy, role_of(id).c_str());
  }
  return 0;
}

int request_scale(const net::HostPort& admin, unsigned instances) {
  unsigned status = 0;
  auto v = call(admin, true, "/scale?instances=" + std::to_string(instances), status);
  if (status != 200) {
    std::fprintf(stderr, "tether scale: %s\n", json::serialize(v).c_str());
    return 1;
  }
  std::printf("scaling to %u instance(s)\n", instances);
  return 0;
}

int request_kill(const net::HostPort& admin, const std::string& instance) {
  unsigned status = 0;
  auto v = call(admin, true,
                "/kill?instance=" + boost::urls::encode(instance, boost::urls::unreserved_chars),
                status);
  if (status != 200) {
    std::fprintf(stderr, "tether kill: %s\n",
                 std::string(v.at("error").as_string()).c_str());
    return 1;
  }
  std::printf("killed %s; the plan starts a replacement\n",
              std::string(v.at("killed").as_string()).c_str());
  return 0;
}

int print_logs(const net::HostPort& admin, const std::string& instance) {
  unsigned status = 0;
  auto v = call(admin, false,
                "/logs?instance=" + boost::urls::encode(instance, boost::urls::unreserved_chars),
                status);
  if (status != 200) {
    std::fprintf(stderr, "tether logs: %s\n", std::string(v.at("error").as_string()).c_str());
    return 1;
  }
  for (const auto& l : v.at("lines").as_array())
    std::printf("%s\n", std::string(l.as_string()).c_str());
  return 0;
}

int request_drain(const net::HostPort& admin, const std::string& instance, bool drain,
                  const std::string& token) {
  const char* verb = drain ? "drain" : "undrain";
  http::Client client(admin.host, admin.port, std::chrono::seconds(10));
  http::Request req{boost::beast::http::verb::post,
                    "/instances/" + boost::urls::encode(instance, boost::urls::unreserved_chars) +
                        "/" + verb,
                    11};
  if (!token.empty()) req.set(boost::beast::http::field::authorization, "Bearer " + token);
  auto res = client.send(std::move(req));
  json::value v;
  boost::system::error_code ec;
  v = json::parse(res.body(), ec);
  if (res.result_int() != 200) {
    std::string why = !ec && v.is_object() && v.as_object().contains("error")
                          ? std::string(v.at("error").as_string())
                          : std::to_string(res.result_int()) + " " + res.body();
    std::fprintf(stderr, "tether %s: %s\n", verb, why.c_str());
    return 1;
  }
  std::string id = !ec && v.is_object() && v.as_object().contains("instance")
                       ? std::string(v.at("instance").as_string())
                       : instance;
  if (drain)
    std::printf("draining %s: no new users; clients pinned to it continue\n", id.c_str());
  else
    std::printf("undrained %s: it takes new users again\n", id.c_str());
  return 0;
}

}  // namespace tether::plan
