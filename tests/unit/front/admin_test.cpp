// The admin endpoint's pure parts: [front.admin] loading and validation,
// the token check and drain by id or prefix (front/admin.hpp).
#include "tether/front/admin.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tether/front/config_load.hpp"

namespace tether::front {
namespace {

using ::testing::HasSubstr;
namespace bhttp = boost::beast::http;

FrontConfig load(std::string_view toml_text) {
  FrontConfig c;
  load_front_config(toml::parse(toml_text), c);
  return c;
}

std::string error_of(std::string_view toml_text) {
  try {
    validate_front_config(load(toml_text));
  } catch (const net::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError for " << toml_text;
  return {};
}

TEST(AdminConfig, DefaultsAreLoopbackOsPickedPortNoToken) {
  auto c = load("");
  EXPECT_TRUE(c.admin.enabled);
  EXPECT_EQ(c.admin.listen, "127.0.0.1");
  EXPECT_EQ(c.admin.port, 0);
  EXPECT_EQ(c.admin.token, "");
  EXPECT_TRUE(c.admin.on());
  EXPECT_NO_THROW(validate_front_config(c));
}

TEST(AdminConfig, LoadsEveryKey) {
  auto c = load("[front.admin]\nenabled = true\nlisten = \"0.0.0.0\"\nport = 9100\ntoken = \"t0k\"\n");
  EXPECT_EQ(c.admin.listen, "0.0.0.0");
  EXPECT_EQ(c.admin.port, 9100);
  EXPECT_EQ(c.admin.token, "t0k");
  EXPECT_NO_THROW(validate_front_config(c));
  EXPECT_FALSE(load("[front.admin]\nport = -1\n").admin.on());
  EXPECT_FALSE(load("[front.admin]\nenabled = false\n").admin.on());
}

TEST(AdminConfig, ErrorsNameTheKeyAndValue) {
  auto err = error_of("[front.admin]\nlisten = \"0.0.0.0\"\n");
  EXPECT_THAT(err, HasSubstr("front.admin.token"));
  EXPECT_THAT(err, HasSubstr("0.0.0.0"));
  EXPECT_THAT(error_of("[front.admin]\nlisten = \"::\"\n"), HasSubstr("front.admin.token"));
  EXPECT_THAT(error_of("[front.admin]\nlisten = \"admin.local\"\n"),
              HasSubstr("front.admin.listen: expected an IP address"));
  EXPECT_THAT(error_of("[front.admin]\nlisten = \"0.0.0.0\"\ntoken = \"two words\"\n"),
              HasSubstr("front.admin.token: must be printable ASCII"));
  try {
    load("[front.admin]\nport = 65536\n");
    ADD_FAILURE() << "port 65536 accepted";
  } catch (const net::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("front.admin.port"));
    EXPECT_THAT(e.what(), HasSubstr("65536"));
  }
  try {
    load("[front.admin]\ntokne = \"x\"\n");
    ADD_FAILURE() << "unknown key accepted";
  } catch (const net::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("front.admin.tokne"));
  }
  // Loopback v6 needs no token; an endpoint that is off is not checked.
  EXPECT_NO_THROW(validate_front_config(load("[front.admin]\nlisten = \"::1\"\n")));
  EXPECT_NO_THROW(
      validate_front_config(load("[front.admin]\nport = -1\nlisten = \"0.0.0.0\"\n")));
}

http::Request request(std::string target, std::string authorization = {}) {
  http::Request r{bhttp::verb::get, target, 11};
  if (!authorization.empty()) r.set(bhttp::field::authorization, authorization);
  return r;
}

TEST(AdminAuthorized, AcceptsBearerOrQueryTokenOnly) {
  EXPECT_TRUE(admin_authorized(request("/status"), ""));
  EXPECT_FALSE(admin_authorized(request("/status"), "sekrit"));
  EXPECT_TRUE(admin_authorized(request("/status", "Bearer sekrit"), "sekrit"));
  EXPECT_TRUE(admin_authorized(request("/status", "bearer sekrit"), "sekrit"));
  EXPECT_FALSE(admin_authorized(request("/status", "Bearer sekri"), "sekrit"));
  EXPECT_FALSE(admin_authorized(request("/status", "Bearer sekritt"), "sekrit"));
  EXPECT_FALSE(admin_authorized(request("/status", "Basic sekrit"), "sekrit"));
  EXPECT_FALSE(admin_authorized(request("/status", "sekrit"), "sekrit"));
  EXPECT_TRUE(admin_authorized(request("/status?token=sekrit"), "sekrit"));
  EXPECT_TRUE(admin_authorized(request("/?a=1&token=sekrit"), "sekrit"));
  EXPECT_TRUE(admin_authorized(request("/?token=sek%72it"), "sekrit"));
  EXPECT_FALSE(admin_authorized(request("/?token=other"), "sekrit"));
  EXPECT_FALSE(admin_authorized(request("/?token"), "sekrit"));
  EXPECT_FALSE(admin_authorized(request("/?tokens=sekrit"), "sekrit"));
}

TEST(SetDraining, ByIdOrUniquePrefix) {
  InstanceTable table(TokenMode::instance_id);
  table.add("alpha-1", "127.0.0.1:1");
  table.add("alpha-2", "127.0.0.1:2");
  table.add("beta", "127.0.0.1:3");

  auto out = set_draining(table, "beta", true);
  EXPECT_EQ(out.status, 200u);
  EXPECT_EQ(out.body.at("instance").as_string(), "beta");
  EXPECT_EQ(out.body.at("state").as_string(), "draining");
  EXPECT_TRUE(table.find("beta")->draining);
  EXPECT_FALSE(table.find("beta")->takes_new(now_ms()));
  EXPECT_TRUE(table.find("beta")->takes_pinned(now_ms()));

  EXPECT_EQ(set_draining(table, "beta", true).status, 200u);  // idempotent
  out = set_draining(table, "alpha-2", false);
  EXPECT_EQ(out.status, 200u);
  EXPECT_FALSE(table.find("alpha-2")->draining);

  out = set_draining(table, "alph", true);
  EXPECT_EQ(out.status, 409u);
  EXPECT_EQ(out.body.at("matches").as_array().size(), 2u);
  EXPECT_FALSE(table.find("alpha-1")->draining);

  out = set_draining(table, "alpha-", true);  // still two
  EXPECT_EQ(out.status, 409u);

  out = set_draining(table, "bet", true);  // under 4 characters: no prefix match
  EXPECT_EQ(out.status, 404u);
  EXPECT_THAT(std::string(out.body.at("error").as_string()), HasSubstr("\"bet\""));

  out = set_draining(table, "gamma", true);
  EXPECT_EQ(out.status, 404u);

  out = set_draining(table, "beta", false);
  EXPECT_EQ(out.body.at("state").as_string(), "up");
  EXPECT_TRUE(table.find("beta")->takes_new(now_ms()));
}

}  // namespace
}  // namespace tether::front
