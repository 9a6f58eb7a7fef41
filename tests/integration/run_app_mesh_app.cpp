// A user's app on the public API alone (tether/app.hpp, tether::run_app):
// what run_app_test starts as several instances to show that an app nobody
// compiled into tether gets the mesh and SignalR hubs (issue 13 part 2).
//   GET /say?text=T   publishes T on topic "hello": 202, or 503 + the reason
//   GET /heard        every "hello" payload received, one per line, in order
//   /hub              a SignalR hub (map_hub) with Echo(text) -> text
#include <memory>
#include <string>
#include <vector>

#include <tether/app.hpp>

namespace {

struct Heard {
  std::vector<std::string> lines;  // touched only on the instance's I/O thread
};

}  // namespace

int main(int argc, char** argv) {
  return tether::run_app(argc, argv, [](tether::AppSetup& app) {
    auto heard = std::make_shared<Heard>();
    tether::Backplane* mesh = app.backplane;
    if (mesh)
      mesh->subscribe(
          "hello", [heard](const tether::mesh::Message& m) { heard->lines.push_back(m.payload); });
    app.router.get("/healthz", [](tether::Context& c) { c.reply(200, "ok\n"); });
    app.router.get("/say", [mesh](tether::Context& c) {
      if (!mesh) return c.reply(503, "no backplane\n");
      auto status = mesh->try_publish("hello", c.query("text", ""));
      if (status != tether::mesh::SendStatus::ok)
        return c.reply(503, std::string(tether::mesh::to_string(status)) + "\n");
      c.reply(202, "published\n");
    });
    app.router.get("/heard", [heard](tether::Context& c) {
      std::string out;
      for (const auto& l : heard->lines) out += l + "\n";
      c.reply(200, out);
    });
    auto hub = app.map_hub("/hub");
    hub->on("Echo", [](tether::Hub::Caller&, boost::json::array& args) -> boost::json::value {
      return args.empty() ? boost::json::value(nullptr) : args[0];
    });
  });
}
