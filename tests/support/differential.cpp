#include "support/differential.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "support/mesh_probe.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {

namespace bhttp = boost::beast::http;

Exchange exchange_raw(std::uint16_t port, std::string_view bytes, std::chrono::seconds limit) {
  return raw_exchange_full(port, bytes, true, limit);
}

std::vector<Response> split_responses(const std::string& raw, std::string* after_101) {
  std::vector<Response> out;
  std::string_view rest = raw;
  while (!rest.empty()) {
    bhttp::response_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!p.is_done()) {
      auto n = p.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += n;
      if (ec || n == 0) break;
    }
    if (ec == bhttp::error::need_more) ec = {};
    if (!ec && !p.is_done() && p.is_header_done() && p.need_eof() && used == rest.size())
      p.put_eof(ec);  // a body delimited by the close
    if (ec || !p.is_done()) {
      out.push_back({-1, std::string(rest.substr(0, 200)), {}});
      return out;
    }
    auto& m = p.get();
    Response r;
    r.status = static_cast<int>(m.result_int());
    r.head = std::string(rest.substr(0, rest.find("\r\n\r\n")));
    r.body = m.body();
    out.push_back(std::move(r));
    rest.remove_prefix(used);
    if (out.back().status == 101) {
      if (after_101) *after_101 = std::string(rest);
      return out;
    }
  }
  return out;
}

std::size_t Outcome::count_2xx() const {
  std::size_t n = 0;
  for (const auto& r : responses)
    if (r.status >= 200 && r.status < 300) ++n;
  return n;
}

bool Outcome::smuggled() const {
  for (const auto& r : received)
    if (r.request.target.find("/smuggled") != std::string::npos) return true;
  return false;
}

std::string Outcome::summary() const {
  std::string s = hung ? "hang" : responses.empty() ? "closed" : std::to_string(first_status());
  if (responses.size() > 1) s += " x" + std::to_string(responses.size());
  s += " fwd=" + std::to_string(received.size());
  if (smuggled()) s += " SMUGGLED";
  if (!strict_errors.empty()) {
    auto e = strict_errors.front();
    e = e.substr(e.find(": ") + 2);
    s += " STRICT(" + e.substr(0, e.find(" near ")) + ")";
  }
  if (!victim_ok) s += " POISONED(" + victim_answer + ")";
  return s;
}

Outcome run_case(std::uint16_t port, RecordingBackend& backend, const std::string& bytes) {
  Outcome o;
  auto mark = backend.mark();
  auto ex = exchange_raw(port, bytes);
  o.hung = !ex.closed_by_peer;
  o.client_port = ex.local_port;
  o.responses = split_responses(ex.received, &o.after_101);
  o.received = backend.requests_since(mark);
  o.strict_errors = backend.errors_since(mark);
  o.backend_bytes = backend.bytes_since(mark);
  // Response poisoning: a stale answer left in a pooled upstream connection
  // would reach the next client.
  auto victim = split_responses(
      exchange_raw(port, "GET /victim HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").received);
  o.victim_ok = !victim.empty() && victim[0].status == 200 && victim[0].body == "GET /victim";
  o.victim_answer = victim.empty()
                        ? "no response"
                        : std::to_string(victim[0].status) + " " + escape_bytes(victim[0].body, 40);
  return o;
}

namespace {

constexpr const char* kHaproxy = "/usr/sbin/haproxy";
constexpr const char* kNginx = "/usr/sbin/nginx";

// Polls GET /ready through the front door until the backend's answer comes back.
bool answers(std::uint16_t port) {
  return eventually(
      [&] {
        try {
          auto r = split_responses(
              exchange_raw(port, "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           std::chrono::seconds(5))
                  .received);
          return !r.empty() && r[0].status == 200 && r[0].body == "GET /ready";
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(30));
}

}  // namespace

std::optional<OtherFront> start_haproxy(const RecordingBackend& backend, std::string& why) {
  if (!std::filesystem::exists(kHaproxy)) {
    why = std::string(kHaproxy) + " is not installed (scripts/install-deps.sh installs haproxy)";
    return std::nullopt;
  }
  static int n = 0;
  OtherFront f{"haproxy", nullptr, probe::free_port()};
  auto cfg = write_temp_file("differential-haproxy-" + std::to_string(n++) + ".cfg",
                             "global\n"
                             "    maxconn 200\n"
                             "defaults\n"
                             "    mode http\n"
                             "    timeout connect 2s\n"
                             "    timeout client 5s\n"
                             "    timeout server 5s\n"
                             "    timeout tunnel 5s\n"
                             "    timeout http-request 5s\n"
                             "frontend differential\n"
                             "    bind 127.0.0.1:" +
                                 std::to_string(f.port) +
                                 "\n"
                                 "    default_backend recording\n"
                                 "backend recording\n"
                                 "    http-reuse always\n"
                                 "    server b1 " +
                                 backend.address() + "\n");
  // -db: stay in the foreground, our child, stopped by PID.
  f.proc = std::make_unique<Process>(std::vector<std::string>{kHaproxy, "-db", "-f", cfg});
  if (!answers(f.port)) {
    why = "haproxy did not answer on port " + std::to_string(f.port) + ": " + f.proc->stderr_text();
    return std::nullopt;
  }
  return f;
}

std::optional<OtherFront> start_nginx(const RecordingBackend& backend, std::string& why) {
  if (!std::filesystem::exists(kNginx)) {
    why = std::string(kNginx) + " is not installed (scripts/install-deps.sh installs nginx)";
    return std::nullopt;
  }
  static int n = 0;
  const std::string dir = temp_dir() + "/differential-nginx-" + std::to_string(n++);
  std::filesystem::create_directories(dir + "/logs");
  OtherFront f{"nginx", nullptr, probe::free_port()};
  std::string conf = "error_log " + dir +
                     "/logs/error.log info;\n"
                     "pid " +
                     dir +
                     "/nginx.pid;\n"
                     "events { worker_connections 256; }\n"
                     "http {\n"
                     "  access_log off;\n"
                     "  client_body_temp_path " +
                     dir +
                     "/client_body;\n"
                     "  proxy_temp_path " +
                     dir +
                     "/proxy;\n"
                     "  fastcgi_temp_path " +
                     dir +
                     "/fastcgi;\n"
                     "  uwsgi_temp_path " +
                     dir +
                     "/uwsgi;\n"
                     "  scgi_temp_path " +
                     dir +
                     "/scgi;\n"
                     "  client_header_timeout 5s;\n"
                     "  client_body_timeout 5s;\n"
                     "  send_timeout 5s;\n"
                     "  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }\n"
                     "  upstream recording { server " +
                     backend.address() +
                     "; keepalive 8; }\n"
                     "  server {\n"
                     "    listen 127.0.0.1:" +
                     std::to_string(f.port) +
                     ";\n"
                     "    location / {\n"
                     "      proxy_pass http://recording;\n"
                     "      proxy_http_version 1.1;\n"
                     "      proxy_set_header Host $host;\n"
                     "      proxy_set_header Upgrade $http_upgrade;\n"
                     "      proxy_set_header Connection $connection_upgrade;\n"
                     "      proxy_ignore_client_abort on;\n"
                     "      proxy_connect_timeout 2s;\n"
                     "      proxy_read_timeout 5s;\n"
                     "      proxy_send_timeout 5s;\n"
                     "    }\n"
                     "  }\n"
                     "}\n";
  auto path = dir + "/nginx.conf";
  std::ofstream(path) << conf;
  f.proc = std::make_unique<Process>(
      std::vector<std::string>{kNginx, "-p", dir, "-e", dir + "/logs/error.log", "-c", path, "-g",
                               "daemon off; master_process off;"});
  if (!answers(f.port)) {
    why = "nginx did not answer on port " + std::to_string(f.port) + ": " + f.proc->stderr_text();
    return std::nullopt;
  }
  return f;
}

}  // namespace tether::test
