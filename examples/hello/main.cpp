// hello: the smallest useful app on tether. It counts your visits in your
// session, says which instance answered, and stamps every response with a
// middleware header. Run several behind `tether front` (or with
// --session-store redis://127.0.0.1:6379 and no affinity) to watch the count
// follow you from instance to instance.
//
//   hello --port 8081 [--session-store URL] [--disable-affinity] [--config FILE]
#include <string>

#include <tether/app.hpp>

namespace {

// GET /: "hello from <instance>, visit <n>".
void hello(tether::Context& c) {
  auto& session = c.session();
  int visits = 0;
  try {
    visits = std::stoi(session.get("visits").value_or("0"));
  } catch (const std::exception&) {
  }
  session.set("visits", std::to_string(++visits));
  c.reply(200, "hello from " + c.instance.id + ", visit " + std::to_string(visits) + "\n");
}

// GET /greet/{name}: a route parameter and a query parameter.
void greet(tether::Context& c) {
  c.reply(200, c.query("greeting", "hello") + ", " + c.params["name"] + "\n");
}

}  // namespace

int main(int argc, char** argv) {
  return tether::run_app(argc, argv, [](tether::AppSetup& app) {
    app.router.after([](tether::Context& c) { c.response.set("X-Powered-By", "tether"); });
    app.router.get("/", hello);
    app.router.get("/greet/{name}", greet);
  });
}
