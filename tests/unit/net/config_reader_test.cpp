// ConfigReader: typed reads, error messages naming the full key and the value,
// unknown-key rejection.
#include "tether/net/config_reader.hpp"

#include <cstdio>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_error.hpp"

namespace tether::net {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

using tether::test::config_error;

TEST(ConfigReader, AbsentTableGivesDefaults) {
  ConfigReader r(nullptr, "front");
  EXPECT_EQ(r.string("listen", "0.0.0.0"), "0.0.0.0");
  EXPECT_TRUE(r.boolean("b", true));
  EXPECT_EQ(r.integer("port", 8080, 0, 65535), 8080);
  EXPECT_EQ(r.duration("d", milliseconds(7)), milliseconds(7));
  EXPECT_EQ(r.strings("s", {"x"}), std::vector<std::string>{"x"});
  EXPECT_EQ(r.choice("c", "a", {"a", "b"}), "a");
  EXPECT_TRUE(r.tables("instances").empty());
  EXPECT_NO_THROW(r.reject_unknown());
}

TEST(ConfigReader, ReadsEachType) {
  auto root = toml::parse(R"(
    [t]
    s = "hello"
    b = false
    i = 42
    l = ["a", "b"]
    c = "round-robin"
  )");
  ConfigReader r(root.get_as<toml::table>("t"), "t");
  EXPECT_EQ(r.string("s", ""), "hello");
  EXPECT_FALSE(r.boolean("b", true));
  EXPECT_EQ(r.integer("i", 0, 0, 100), 42);
  EXPECT_EQ(r.strings("l", {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.choice("c", "least-requests", {"least-requests", "round-robin"}), "round-robin");
  EXPECT_NO_THROW(r.reject_unknown());
}

TEST(ConfigReader, PathJoinsPrefix) {
  EXPECT_EQ(ConfigReader(nullptr, "front.affinity").path("cookie"), "front.affinity.cookie");
  EXPECT_EQ(ConfigReader(nullptr, "").path("cookie"), "cookie");
}

TEST(ConfigReader, DurationsAsStringsOrIntegerSeconds) {
  auto root = toml::parse(R"(
    [front.timeouts]
    a = "230s"
    b = "500ms"
    c = 30
    d = "2m"
  )");
  ConfigReader front(root.get_as<toml::table>("front"), "front");
  auto t = front.table("timeouts");
  EXPECT_EQ(t.duration("a", {}), milliseconds(230'000));
  EXPECT_EQ(t.duration("b", {}), milliseconds(500));
  EXPECT_EQ(t.duration("c", {}), milliseconds(30'000));
  EXPECT_EQ(t.duration("d", {}), milliseconds(120'000));
}

TEST(ConfigReader, BadDurationNamesDottedKeyAndValue) {
  auto root = toml::parse(R"(
    [front.timeouts]
    connect = "5x"
  )");
  ConfigReader front(root.get_as<toml::table>("front"), "front");
  auto t = front.table("timeouts");
  EXPECT_THAT(config_error([&] { t.duration("connect", {}); }),
              AllOf(HasSubstr("front.timeouts.connect"), HasSubstr("5x")));
}

TEST(ConfigReader, NegativeIntegerDurationRejected) {
  auto root = toml::parse("[t]\nd = -3\n");
  ConfigReader r(root.get_as<toml::table>("t"), "t");
  EXPECT_THAT(config_error([&] { r.duration("d", {}); }), AllOf(HasSubstr("t.d"), HasSubstr("-3")));
}

TEST(ConfigReader, BooleanDurationRejected) {
  auto root = toml::parse("[t]\nd = true\n");
  ConfigReader r(root.get_as<toml::table>("t"), "t");
  EXPECT_THAT(config_error([&] { r.duration("d", {}); }), AllOf(HasSubstr("t.d"), HasSubstr("true")));
}

TEST(ConfigReader, IntegerOutOfRangeNamesKeyAndValue) {
  auto root = toml::parse("[front]\nport = 70000\n");
  ConfigReader r(root.get_as<toml::table>("front"), "front");
  auto msg = config_error([&] { r.integer("port", 8080, 0, 65535); });
  EXPECT_THAT(msg, AllOf(HasSubstr("front.port"), HasSubstr("70000"), HasSubstr("65535")));
}

TEST(ConfigReader, WrongTypesNameKeyAndValue) {
  auto root = toml::parse(R"(
    [t]
    s = 5
    b = "yes"
    i = "80"
    l = "not-an-array"
    m = ["a", 1]
  )");
  ConfigReader r(root.get_as<toml::table>("t"), "t");
  EXPECT_THAT(config_error([&] { r.string("s", ""); }), AllOf(HasSubstr("t.s"), HasSubstr("5")));
  EXPECT_THAT(config_error([&] { r.boolean("b", false); }),
              AllOf(HasSubstr("t.b"), HasSubstr("yes")));
  EXPECT_THAT(config_error([&] { r.integer("i", 0, 0, 100); }),
              AllOf(HasSubstr("t.i"), HasSubstr("80")));
  EXPECT_THAT(config_error([&] { r.strings("l", {}); }),
              AllOf(HasSubstr("t.l"), HasSubstr("not-an-array")));
  EXPECT_THAT(config_error([&] { r.strings("m", {}); }), HasSubstr("t.m"));
}

TEST(ConfigReader, ChoiceListsTheChoices) {
  auto root = toml::parse("[front]\nbalancing = \"fastest\"\n");
  ConfigReader r(root.get_as<toml::table>("front"), "front");
  auto msg = config_error(
      [&] { r.choice("balancing", "least-requests", {"least-requests", "round-robin"}); });
  EXPECT_THAT(msg, AllOf(HasSubstr("front.balancing"), HasSubstr("fastest"),
                         HasSubstr("least-requests"), HasSubstr("round-robin")));
}

TEST(ConfigReader, ChoiceIsCaseSensitive) {
  auto root = toml::parse("[t]\nc = \"Round-Robin\"\n");
  ConfigReader r(root.get_as<toml::table>("t"), "t");
  EXPECT_THROW(r.choice("c", "a", {"round-robin"}), ConfigError);
}

TEST(ConfigReader, UnknownKeyRejectedWithFullPath) {
  auto root = toml::parse(R"(
    [front.affinity]
    cookie = "X"
    cokie = "Y"
  )");
  ConfigReader front(root.get_as<toml::table>("front"), "front");
  auto aff = front.table("affinity");
  aff.string("cookie", "");
  auto msg = config_error([&] { aff.reject_unknown(); });
  EXPECT_THAT(msg, AllOf(HasSubstr("front.affinity.cokie"), HasSubstr("unknown")));
}

TEST(ConfigReader, KeysReadWithDefaultsAreNotUnknown) {
  auto root = toml::parse("[t]\na = 1\n");
  ConfigReader r(root.get_as<toml::table>("t"), "t");
  EXPECT_THROW(r.reject_unknown(), ConfigError);  // nothing read yet
  r.integer("a", 0, 0, 10);
  EXPECT_NO_THROW(r.reject_unknown());
}

TEST(ConfigReader, SubTableMustBeATable) {
  auto root = toml::parse("[front]\naffinity = 3\n");
  ConfigReader front(root.get_as<toml::table>("front"), "front");
  EXPECT_THAT(config_error([&] { front.table("affinity"); }), HasSubstr("front.affinity"));
}

TEST(ConfigReader, ArrayOfTablesIndexedPaths) {
  auto root = toml::parse(R"(
    [[front.instances]]
    address = "127.0.0.1:1"
    [[front.instances]]
    address = "127.0.0.1:2"
    bogus = 1
  )");
  ConfigReader front(root.get_as<toml::table>("front"), "front");
  auto list = front.tables("instances");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].string("address", ""), "127.0.0.1:1");
  EXPECT_EQ(list[1].string("address", ""), "127.0.0.1:2");
  EXPECT_NO_THROW(list[0].reject_unknown());
  EXPECT_THAT(config_error([&] { list[1].reject_unknown(); }),
              HasSubstr("front.instances[1].bogus"));
}

TEST(ConfigReader, FailFormat) {
  ConfigReader r(nullptr, "serve");
  EXPECT_EQ(config_error([&] { r.fail("port", "is odd", "3"); }), "serve.port: is odd (got 3)");
}

TEST(ParseConfigFile, SyntaxErrorNamesFileAndLine) {
  std::string path = ::testing::TempDir() + "tether_config_reader_bad.toml";
  {
    std::ofstream out(path);
    out << "[front]\nport = 80\nlisten = \n";
  }
  auto msg = config_error([&] { parse_config_file(path); });
  std::remove(path.c_str());
  EXPECT_THAT(msg, AllOf(HasSubstr(path), HasSubstr(":3:")));
}

TEST(ParseConfigFile, MissingFileIsAConfigError) {
  EXPECT_THAT(config_error([] { parse_config_file("/nonexistent/tether/none.toml"); }),
              HasSubstr("/nonexistent/tether/none.toml"));
}

}  // namespace
}  // namespace tether::net
