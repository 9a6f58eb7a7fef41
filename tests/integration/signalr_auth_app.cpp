// A SignalR hub that requires a JWT, on the public API alone (tether/app.hpp),
// for tests/realtime/auth.test.mjs: run as any command under
// `tether up -- signalr_auth_app`. The HS256 secret comes from
// $TEST_JWT_SECRET; audience "tether-test", issuer "tether-tests".
//   /hub   WhoAmI() -> the caller's user (the token's `sub`)
//          SendToUser(user, text) -> Clients.User(user).SendAsync("Note", text)
//          AdminOnly() -> "secret stuff", only with the claim role: admin
#include <cstdlib>
#include <string>

#include <tether/app.hpp>

int main(int argc, char** argv) {
  return tether::run_app(argc, argv, [](tether::AppSetup& app) {
    const char* secret = std::getenv("TEST_JWT_SECRET");
    tether::net::JwtConfig jwt;
    jwt.hs256_secret = secret ? secret : "";
    jwt.audience = "tether-test";
    jwt.issuer = "tether-tests";
    tether::HubOptions options;
    options.name = "auth";
    options.jwt = std::make_shared<tether::net::JwtValidator>(jwt);
    options.require_auth = true;
    auto hub = app.map_hub("/hub", options);
    hub->on("WhoAmI",
            [](tether::Hub::Caller& c, boost::json::array&) { return boost::json::value(c.user); });
    hub->on("SendToUser", [](tether::Hub::Caller& c, boost::json::array& args) {
      c.hub.send_user(std::string(args.at(0).as_string()), "Note", {args.at(1)});
      return boost::json::value(nullptr);
    });
    hub->on("AdminOnly", [](tether::Hub::Caller&, boost::json::array&) {
      return boost::json::value("secret stuff");
    });
    hub->require_claim("AdminOnly", "role", "admin");
    app.router.get("/healthz", [](tether::Context& c) { c.reply(200, "ok\n"); });
  });
}
