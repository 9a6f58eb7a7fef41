// Affinity: ARR's cookie pair, the request tokens, the opt-out header.
#include "tether/front/affinity.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::front {
namespace {

namespace bhttp = boost::beast::http;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(AffinityCookies, HttpPairExact) {
  Affinity a{AffinityConfig{}};
  EXPECT_THAT(
      a.cookie_values("T", "example.com:8080", false),
      ElementsAre("ARRAffinity=T;Path=/;HttpOnly;Domain=example.com",
                  "ARRAffinitySameSite=T;Path=/;HttpOnly;SameSite=None;Secure;Domain=example.com"));
}

TEST(AffinityCookies, HttpsAddsSecureToMainCookie) {
  Affinity a{AffinityConfig{}};
  EXPECT_THAT(
      a.cookie_values("T", "example.com:8080", true),
      ElementsAre("ARRAffinity=T;Path=/;HttpOnly;Secure;Domain=example.com",
                  "ARRAffinitySameSite=T;Path=/;HttpOnly;SameSite=None;Secure;Domain=example.com"));
}

TEST(AffinityCookies, SetDomainFalseOmitsDomain) {
  AffinityConfig c;
  c.set_domain = false;
  Affinity a{c};
  EXPECT_THAT(a.cookie_values("T", "example.com:8080", false),
              ElementsAre("ARRAffinity=T;Path=/;HttpOnly",
                          "ARRAffinitySameSite=T;Path=/;HttpOnly;SameSite=None;Secure"));
}

TEST(AffinityCookies, FixedDomainWinsOverHost) {
  AffinityConfig c;
  c.domain = ".contoso.net";
  Affinity a{c};
  EXPECT_THAT(
      a.cookie_values("T", "example.com:8080", false),
      ElementsAre(
          "ARRAffinity=T;Path=/;HttpOnly;Domain=.contoso.net",
          "ARRAffinitySameSite=T;Path=/;HttpOnly;SameSite=None;Secure;Domain=.contoso.net"));
}

TEST(AffinityCookies, DomainIsLowercasedHostWithoutPort) {
  Affinity a{AffinityConfig{}};
  auto v = a.cookie_values("T", "WWW.Example.COM", false);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "ARRAffinity=T;Path=/;HttpOnly;Domain=www.example.com");
}

TEST(AffinityCookies, EmptySameSiteCookieGivesOneCookie) {
  AffinityConfig c;
  c.samesite_cookie.clear();
  Affinity a{c};
  EXPECT_THAT(a.cookie_values("T", "example.com:8080", false),
              ElementsAre("ARRAffinity=T;Path=/;HttpOnly;Domain=example.com"));
}

TEST(AffinityCookies, CustomCookieName) {
  AffinityConfig c;
  c.cookie = "SERVERID";
  c.samesite_cookie.clear();
  Affinity a{c};
  EXPECT_THAT(a.cookie_values("web1", "example.com", false),
              ElementsAre("SERVERID=web1;Path=/;HttpOnly;Domain=example.com"));
}

TEST(AffinityCookies, HostileHostGivesNoDomain) {
  Affinity a{AffinityConfig{}};
  for (const char* host :
       {"evil.com;Path=/admin", "a b.com", "x.com;", "x.com,y.com", "x\"y.com", "tab\t.com"}) {
    SCOPED_TRACE(host);
    EXPECT_THAT(a.cookie_values("T", host, false),
                ElementsAre("ARRAffinity=T;Path=/;HttpOnly",
                            "ARRAffinitySameSite=T;Path=/;HttpOnly;SameSite=None;Secure"));
  }
}

TEST(AffinityCookies, EmptyHostGivesNoDomain) {
  Affinity a{AffinityConfig{}};
  EXPECT_THAT(a.cookie_values("T", "", false),
              ElementsAre("ARRAffinity=T;Path=/;HttpOnly",
                          "ARRAffinitySameSite=T;Path=/;HttpOnly;SameSite=None;Secure"));
}

TEST(AffinityCookies, AddCookiesAppendsSetCookieHeaders) {
  Affinity a{AffinityConfig{}};
  bhttp::fields res;
  res.insert(bhttp::field::set_cookie, "app=1");
  a.add_cookies(res, "T", "example.com:8080", false);
  std::vector<std::string> got;
  for (const auto& f : res)
    if (f.name() == bhttp::field::set_cookie) got.emplace_back(f.value());
  EXPECT_THAT(got, ElementsAre("app=1", "ARRAffinity=T;Path=/;HttpOnly;Domain=example.com",
                               "ARRAffinitySameSite=T;Path=/;HttpOnly;SameSite=None;Secure;"
                               "Domain=example.com"));
}

// add_cookies keeps the last pins' rendered cookies per thread: whatever it
// served before, each call gives exactly what cookie_values says for its
// own configuration, token, host and scheme.
TEST(AffinityCookies, AddCookiesIsRightAcrossTokensHostsSchemesAndConfigurations) {
  AffinityConfig other_config;
  other_config.cookie = "Pin";
  other_config.samesite_cookie = "";
  other_config.domain = "example.org";
  std::vector<std::unique_ptr<Affinity>> affinities;
  affinities.push_back(std::make_unique<Affinity>(AffinityConfig{}));
  affinities.push_back(std::make_unique<Affinity>(other_config));
  for (int round = 0; round < 3; ++round)
    for (int t = 0; t < 40; ++t)  // more tokens than the cache holds
      for (const auto& a : affinities)
        for (const char* host : {"example.com:8080", "other.example", ""})
          for (bool https : {false, true}) {
            const std::string token = "T" + std::to_string(t);
            bhttp::fields res;
            a->add_cookies(res, token, host, https);
            std::vector<std::string> got;
            for (const auto& f : res) got.emplace_back(f.value());
            ASSERT_EQ(got, a->cookie_values(token, host, https))
                << token << " " << host << " " << https;
          }
  // A configuration made after the others, at an address one of them had.
  affinities.pop_back();
  AffinityConfig third = other_config;
  third.cookie = "Third";
  affinities.push_back(std::make_unique<Affinity>(third));
  bhttp::fields res;
  affinities.back()->add_cookies(res, "T1", "example.com:8080", false);
  ASSERT_EQ(std::distance(res.begin(), res.end()), 1);
  EXPECT_EQ(res.begin()->value(), "Third=T1;Path=/;HttpOnly;Domain=example.org");
}

TEST(AffinityRequestTokens, MainThenTwin) {
  Affinity a{AffinityConfig{}};
  bhttp::fields req;
  req.insert(bhttp::field::cookie, "ARRAffinitySameSite=twin; ARRAffinity=main; other=x");
  EXPECT_THAT(a.request_tokens(req), ElementsAre("main", "twin"));
}

TEST(AffinityRequestTokens, OnlyTwin) {
  Affinity a{AffinityConfig{}};
  bhttp::fields req;
  req.insert(bhttp::field::cookie, "ARRAffinitySameSite=twin");
  EXPECT_THAT(a.request_tokens(req), ElementsAre("twin"));
}

TEST(AffinityRequestTokens, NoneWithoutCookies) {
  Affinity a{AffinityConfig{}};
  bhttp::fields req;
  EXPECT_THAT(a.request_tokens(req), IsEmpty());
}

TEST(AffinityRequestTokens, NothingWhenDisabled) {
  AffinityConfig c;
  c.enabled = false;
  Affinity a{c};
  EXPECT_FALSE(a.enabled());
  bhttp::fields req;
  req.insert(bhttp::field::cookie, "ARRAffinity=main; ARRAffinitySameSite=twin");
  EXPECT_THAT(a.request_tokens(req), IsEmpty());
}

TEST(AffinityRequestTokens, TwinIgnoredWhenNotConfigured) {
  AffinityConfig c;
  c.samesite_cookie.clear();
  Affinity a{c};
  bhttp::fields req;
  req.insert(bhttp::field::cookie, "ARRAffinitySameSite=twin; ARRAffinity=main");
  EXPECT_THAT(a.request_tokens(req), ElementsAre("main"));
}

TEST(AffinityRequestTokens, CustomName) {
  AffinityConfig c;
  c.cookie = "SERVERID";
  Affinity a{c};
  bhttp::fields req;
  req.insert(bhttp::field::cookie, "ARRAffinity=arr; SERVERID=web2");
  EXPECT_THAT(a.request_tokens(req), ElementsAre("web2"));
}

TEST(AffinityOptOut, TrueInAnyCase) {
  for (const char* v : {"true", "True", "TRUE", " tRuE "}) {
    SCOPED_TRACE(v);
    bhttp::fields res;
    res.insert(kOptOutHeader, v);
    res.insert(bhttp::field::content_type, "text/plain");
    EXPECT_TRUE(Affinity::take_opt_out(res));
    EXPECT_EQ(res.count(kOptOutHeader), 0u);
    EXPECT_EQ(res[bhttp::field::content_type], "text/plain");
  }
}

TEST(AffinityOptOut, FalseStillRemovesHeader) {
  bhttp::fields res;
  res.insert(kOptOutHeader, "false");
  EXPECT_FALSE(Affinity::take_opt_out(res));
  EXPECT_EQ(res.count(kOptOutHeader), 0u);
}

TEST(AffinityOptOut, HeaderNameCaseInsensitive) {
  bhttp::fields res;
  res.insert("arr-disable-session-affinity", "True");
  EXPECT_TRUE(Affinity::take_opt_out(res));
  EXPECT_EQ(res.count(kOptOutHeader), 0u);
}

TEST(AffinityOptOut, AbsentHeader) {
  bhttp::fields res;
  res.insert(bhttp::field::content_type, "text/plain");
  EXPECT_FALSE(Affinity::take_opt_out(res));
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain");
}

TEST(AffinityOptOut, AnyTrueAmongSeveralRemovesAll) {
  bhttp::fields res;
  res.insert(kOptOutHeader, "false");
  res.insert(kOptOutHeader, "True");
  EXPECT_TRUE(Affinity::take_opt_out(res));
  EXPECT_EQ(res.count(kOptOutHeader), 0u);
}

TEST(AffinityOptOut, OtherHeadersBetweenAreNotRead) {
  // Only the opt-out headers' own values count, wherever they sit.
  bhttp::fields res;
  res.insert(kOptOutHeader, "false");
  res.insert("X-Feature-Enabled", "true");
  res.insert(kOptOutHeader, "false");
  EXPECT_FALSE(Affinity::take_opt_out(res));
  EXPECT_EQ(res.count(kOptOutHeader), 0u);
  EXPECT_EQ(res["X-Feature-Enabled"], "true");
}

}  // namespace
}  // namespace tether::front

namespace tether::front {
namespace {

// Timed pins (max_idle / max_life, HAProxy's cookie options; issue 15).
bhttp::fields cookie_header(const std::string& value) {
  bhttp::fields f;
  f.set(bhttp::field::cookie, "ARRAffinity=" + value);
  return f;
}

AffinityConfig timed_config(long idle_s, long life_s) {
  AffinityConfig c;
  c.max_idle = std::chrono::seconds(idle_s);
  c.max_life = std::chrono::seconds(life_s);
  return c;
}

TEST(AffinityTimed, OffByDefaultSoTheCookieIsExactlyArrs) {
  Affinity a{AffinityConfig{}};
  EXPECT_FALSE(a.timed());
  EXPECT_EQ(a.cookie_value("abc", 100, 200), "abc");
  const auto req = cookie_header("abc.1.2");  // the pins view into it
  auto pins = a.request_pins(req, 1'000'000);
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0].token, "abc.1.2");  // a token, whatever it looks like
  EXPECT_FALSE(pins[0].expired);
  EXPECT_FALSE(a.needs_refresh(pins[0], 1'000'000));
}

TEST(AffinityTimed, CookieCarriesFirstAndLastSeen) {
  Affinity a{timed_config(600, 0)};
  EXPECT_EQ(a.cookie_value("inst.1", 1000, 1500), "inst.1.1000.1500");
  const auto req = cookie_header("inst.1.1000.1500");
  auto pins = a.request_pins(req, 1600);
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0].token, "inst.1");  // dots in a token survive
  EXPECT_EQ(pins[0].first_s, 1000);
  EXPECT_EQ(pins[0].last_s, 1500);
  EXPECT_FALSE(pins[0].expired);
}

TEST(AffinityTimed, IdlePastMaxIdleExpires) {
  // Scenario (seeds 001/003): a browser left open for days comes back; its
  // pin is balanced afresh instead of holding an instance forever.
  Affinity a{timed_config(600, 0)};
  EXPECT_FALSE(a.request_pins(cookie_header("i.1000.1500"), 2100)[0].expired);
  EXPECT_TRUE(a.request_pins(cookie_header("i.1000.1500"), 2101)[0].expired);
}

TEST(AffinityTimed, OlderThanMaxLifeExpiresEvenWhenBusy) {
  Affinity a{timed_config(0, 3600)};
  EXPECT_FALSE(a.request_pins(cookie_header("i.1000.4590"), 4600)[0].expired);
  EXPECT_TRUE(a.request_pins(cookie_header("i.1000.4600"), 4601)[0].expired);
}

TEST(AffinityTimed, UndatedOrForgedValuesAreBalancedAfresh) {
  Affinity a{timed_config(600, 0)};
  for (const char* v :
       {"bare-arr-token", "i.x.1500", "i.1500", "i.2000.1000", ".1.2", "i.1000.99999999999"})
    EXPECT_TRUE(a.request_pins(cookie_header(v), 2000)[0].expired) << v;
}

TEST(AffinityTimed, RefreshAtMostEveryQuarterOfMaxIdle) {
  Affinity a{timed_config(600, 0)};
  Affinity::Pin p;
  p.token = "i";
  p.first_s = 1000;
  p.last_s = 1000;
  EXPECT_FALSE(a.needs_refresh(p, 1149));
  EXPECT_TRUE(a.needs_refresh(p, 1150));
  Affinity life_only{timed_config(0, 3600)};
  EXPECT_FALSE(life_only.needs_refresh(p, 5000));  // no idle limit: nothing to refresh
}

TEST(AffinityTimed, RebalancingDatesThePinsAndReadsTheirIdleTime) {
  // Rebalancing alone makes cookies timed: the last-seen date is what tells
  // an idle pin, refreshed at most every quarter of rebalance_idle.
  AffinityConfig c;
  c.rebalance_idle = std::chrono::seconds(400);
  Affinity a{c};
  EXPECT_TRUE(a.rebalancing());
  EXPECT_TRUE(a.timed());
  auto pin = a.request_pins(cookie_header("i.1000.1000"), 1399)[0];
  EXPECT_FALSE(pin.expired);  // rebalancing never expires a pin
  EXPECT_FALSE(a.idle_for_rebalance(pin, 1399));
  EXPECT_TRUE(a.idle_for_rebalance(pin, 1400));
  EXPECT_FALSE(a.needs_refresh(pin, 1099));
  EXPECT_TRUE(a.needs_refresh(pin, 1100));
  // With max_idle too, the shorter period refreshes.
  c.max_idle = std::chrono::seconds(100);
  EXPECT_TRUE(Affinity{c}.needs_refresh(pin, 1025));
  // Affinity off: nothing rebalances.
  c.enabled = false;
  EXPECT_FALSE(Affinity{c}.rebalancing());
}

TEST(AffinityPortable, ReadAndRemoved) {
  bhttp::fields res;
  EXPECT_EQ(Affinity::take_portable(res), std::nullopt);
  res.set(kPortableHeader, "TRUE");
  EXPECT_EQ(Affinity::take_portable(res), true);
  EXPECT_EQ(res.count(kPortableHeader), 0u);
  res.set(kPortableHeader, "false");
  EXPECT_EQ(Affinity::take_portable(res), false);
  EXPECT_EQ(res.count(kPortableHeader), 0u);
}

}  // namespace
}  // namespace tether::front
