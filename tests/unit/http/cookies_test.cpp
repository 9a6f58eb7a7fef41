// cookie_values / SetCookie / host_without_port: the cookie codec under affinity.
#include "tether/http/cookies.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::http {
namespace {

namespace bhttp = boost::beast::http;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(CookieValues, SingleHeader) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "a=1; ARRAffinity=abc; b=2");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre("abc"));
  EXPECT_THAT(cookie_values(f, "a"), ElementsAre("1"));
  EXPECT_THAT(cookie_values(f, "b"), ElementsAre("2"));
}

TEST(CookieValues, NoCookieHeader) {
  bhttp::fields f;
  f.insert(bhttp::field::host, "example.com");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), IsEmpty());
}

TEST(CookieValues, AcrossSeveralHeadersInOrder) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "ARRAffinity=first");
  f.insert(bhttp::field::cookie, "x=y; ARRAffinity=second");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre("first", "second"));
}

TEST(CookieValues, RepeatedNameInOneHeader) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "ARRAffinity=one;ARRAffinity=two");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre("one", "two"));
}

TEST(CookieValues, OtherHeadersBetweenCookieHeadersAreNotCookies) {
  // Cookie headers inserted with other headers between them: only the Cookie
  // headers' values are cookie lists, whatever the others contain.
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "ARRAffinity=first");
  f.insert("X-Not-A-Cookie", "ARRAffinity=injected");
  f.insert(bhttp::field::user_agent, "ARRAffinity=agent");
  f.insert(bhttp::field::cookie, "ARRAffinity=second");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre("first", "second"));
}

TEST(CookieValues, QuotedValuesAreUnquoted) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "ARRAffinity=\"abc\"; other=\"x\"");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre("abc"));
  EXPECT_THAT(cookie_values(f, "other"), ElementsAre("x"));
}

TEST(CookieValues, LoneQuoteIsKept) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "a=\"");
  EXPECT_THAT(cookie_values(f, "a"), ElementsAre("\""));
}

TEST(CookieValues, NamesMatchExactly) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie,
           "arraffinity=lower; ARRAffinitySameSite=twin; XARRAffinity=prefixed; ARRAffinity=real");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre("real"));
  EXPECT_THAT(cookie_values(f, "ARRAffinitySameSite"), ElementsAre("twin"));
  EXPECT_THAT(cookie_values(f, "ARRAffinitySame"), IsEmpty());
}

TEST(CookieValues, WhitespaceAroundPairsIsIgnored) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "  a = 1 ;\tb=2\t;c=3");
  EXPECT_THAT(cookie_values(f, "a"), ElementsAre("1"));
  EXPECT_THAT(cookie_values(f, "b"), ElementsAre("2"));
  EXPECT_THAT(cookie_values(f, "c"), ElementsAre("3"));
}

TEST(CookieValues, MalformedPairsAreSkipped) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "garbage; ;; =nameless; ARRAffinity; ARRAffinity=ok; tail");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre("ok"));
}

TEST(CookieValues, EmptyValueIsAValue) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "ARRAffinity=; b=2");
  EXPECT_THAT(cookie_values(f, "ARRAffinity"), ElementsAre(""));
}

TEST(CookieValues, ValueMayContainEquals) {
  bhttp::fields f;
  f.insert(bhttp::field::cookie, "t=a=b==");
  EXPECT_THAT(cookie_values(f, "t"), ElementsAre("a=b=="));
}

TEST(SetCookieToString, DefaultsAreSessionHttpOnlyRootPath) {
  SetCookie c;
  c.name = "ARRAffinity";
  c.value = "tok";
  EXPECT_EQ(c.to_string(), "ARRAffinity=tok;Path=/;HttpOnly");
}

TEST(SetCookieToString, ArrAttributeOrder) {
  SetCookie c;
  c.name = "ARRAffinitySameSite";
  c.value = "tok";
  c.same_site = "None";
  c.secure = true;
  c.domain = "example.com";
  EXPECT_EQ(c.to_string(), "ARRAffinitySameSite=tok;Path=/;HttpOnly;SameSite=None;Secure;Domain=example.com");
}

TEST(SetCookieToString, MaxAgeComesAfterPath) {
  SetCookie c;
  c.name = "n";
  c.value = "v";
  c.max_age = 0;
  c.http_only = false;
  EXPECT_EQ(c.to_string(), "n=v;Path=/;Max-Age=0");
}

TEST(SetCookieToString, EmptyPathOmitted) {
  SetCookie c;
  c.name = "n";
  c.value = "v";
  c.path = {};
  c.secure = true;
  EXPECT_EQ(c.to_string(), "n=v;HttpOnly;Secure");
}

TEST(HostWithoutPort, DropsPort) { EXPECT_EQ(host_without_port("a.b:80"), "a.b"); }

TEST(HostWithoutPort, Ipv6Brackets) {
  EXPECT_EQ(host_without_port("[::1]:8080"), "::1");
  EXPECT_EQ(host_without_port("[::1]"), "::1");
}

TEST(HostWithoutPort, Lowercases) { EXPECT_EQ(host_without_port("Example.COM"), "example.com"); }

TEST(HostWithoutPort, NoPortUnchanged) {
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port(""), "");
}

TEST(HostWithoutPort, BareIpv6KeptWhole) { EXPECT_EQ(host_without_port("::1"), "::1"); }

}  // namespace
}  // namespace tether::http
