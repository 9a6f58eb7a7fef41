#include "tether/host/router.hpp"

#include <stdexcept>

#include <boost/url/parse.hpp>

#include "tether/session/session_manager.hpp"

namespace tether::host {

namespace bhttp = boost::beast::http;

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

namespace {

asio::awaitable<void> run_sync(const SyncHandler* h, Context& ctx) {
  (*h)(ctx);
  co_return;
}

asio::awaitable<bool> run_before(const std::function<bool(Context&)>* h, Context& ctx) {
  co_return (*h)(ctx);
}
}  // namespace

std::string_view Context::path() const {
  std::string_view t = request.target();
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string Context::query(std::string_view name, std::string fallback) const {
  auto parsed = boost::urls::parse_origin_form(request.target());
  if (!parsed) return fallback;
  auto params = parsed->params();
  auto it = params.find(name);
  if (it == params.end()) return fallback;
  return std::string((*it).value);
}

void Context::reply(unsigned status, std::string body, std::string_view content_type) {
  response.result(status);
  response.set(bhttp::field::content_type, content_type);
  response.body() = std::move(body);
}

void Context::redirect(std::string location, unsigned status) {
  response.result(status);
  response.set(bhttp::field::location, location);
  response.set(bhttp::field::content_type, "text/plain");
  response.body() = "See " + location + "\n";
}

session::Session& Context::session() {
  if (!session_state) throw std::logic_error("no sessions on this server");
  return session_state->get();
}

void Router::use(Middleware middleware) { middleware_.push_back(std::move(middleware)); }

void Router::before(std::function<bool(Context&)> hook) {
  auto shared = std::make_shared<std::function<bool(Context&)>>(std::move(hook));
  use(Middleware{[shared](Context& c) { return run_before(shared.get(), c); }, {}});
}

void Router::after(std::function<void(Context&)> hook) {
  auto shared = std::make_shared<SyncHandler>(std::move(hook));
  use(Middleware{{}, [shared](Context& c) { return run_sync(shared.get(), c); }});
}

void Router::add_async(Verb method, std::string pattern, AsyncHandler handler) {
  auto segments = split_path(pattern);
  routes_.push_back(Route{method, {segments.begin(), segments.end()}, std::move(handler)});
}

void Router::add(Verb method, std::string pattern, SyncHandler handler) {
  auto shared = std::make_shared<SyncHandler>(std::move(handler));
  add_async(method, std::move(pattern),
      AsyncHandler([shared](Context& c) { return run_sync(shared.get(), c); }));
}

bool Router::match(const Route& r, std::string_view path,
                   std::unordered_map<std::string, std::string>& params) {
  auto segs = split_path(path);
  std::size_t i = 0;
  for (; i < r.segments.size(); ++i) {
    const auto& s = r.segments[i];
    if (s == "*" && i + 1 == r.segments.size()) return true;
    if (i >= segs.size()) return false;
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      params[s.substr(1, s.size() - 2)] = std::string(segs[i]);
    } else if (s != segs[i]) {
      return false;
    }
  }
  return i == segs.size();
}

asio::awaitable<void> Router::dispatch(Context& ctx) const {
  std::size_t ran = 0;  // middleware whose `before` ran (or has none)
  bool answered = false;
  while (ran < middleware_.size() && !answered) {
    const auto& m = middleware_[ran++];
    if (m.before && !co_await m.before(ctx)) answered = true;
  }
  if (!answered) co_await route(ctx);
  while (ran > 0) {
    const auto& m = middleware_[--ran];
    if (m.after) co_await m.after(ctx);
  }
}

asio::awaitable<void> Router::route(Context& ctx) const {
  auto method = ctx.request.method();
  std::string allow;
  const Route* found = nullptr;
  for (int pass = 0; pass < 2 && !found; ++pass) {
    // Second pass: HEAD served by GET routes.
    if (pass == 1 && method != Verb::head) break;
    Verb want = pass == 0 ? method : Verb::get;
    for (const auto& r : routes_) {
      std::unordered_map<std::string, std::string> params;
      if (!match(r, ctx.path(), params)) continue;
      if (r.method == want) {
        found = &r;
        ctx.params = std::move(params);
        break;
      }
      if (pass == 0) {
        if (!allow.empty()) allow += ", ";
        allow += std::string(bhttp::to_string(r.method));
      }
    }
  }
  if (found) {
    co_await found->handler(ctx);
    co_return;
  }
  if (!allow.empty()) {
    ctx.response.set(bhttp::field::allow, allow);
    ctx.reply(405, "405 Method Not Allowed\n");
  } else {
    ctx.reply(404, "404 Not Found\n");
  }
}

}  // namespace tether::host

namespace tether::host {

asio::awaitable<void> serve_routes(const Router* router, const InstanceInfo* instance,
                                   http::Exchange& ex) {
  static const InstanceInfo kNone{};
  Context ctx{ex.request, ex.response, ex.connection, instance ? *instance : kNone, {},
              &ex.take_over, nullptr};
  co_await router->dispatch(ctx);
}

}  // namespace tether::host
