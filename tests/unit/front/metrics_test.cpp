// render_metrics: the Prometheus text of a /status snapshot (front/metrics.hpp).
#include "tether/front/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace tether::front {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

boost::json::object status() {
  return boost::json::parse(R"({
    "balancing": "least-requests", "affinity": true,
    "counters": {"requests": 7, "connections_open": 2, "responses_2xx": 6, "responses_5xx": 1,
                 "health_transitions": 3, "tunnels_open": 1},
    "latency": {"bounds_ms": [1, 10], "counts": [2, 3, 1], "count": 6, "sum_ms": 42.5},
    "instances": [
      {"id": "a\"b", "state": "up", "requests": 5, "outstanding": 1, "tunnels": 1,
       "open_connections": 2, "pinned_requests": 4,
       "responses": {"1xx": 0, "2xx": 4, "3xx": 0, "4xx": 0, "5xx": 1}},
      {"id": "c", "state": "draining", "requests": 2, "health": "healthy"}
    ]})").as_object();
}

TEST(RenderMetrics, CountersHaveHelpTypeAndValue) {
  auto text = render_metrics(status());
  EXPECT_THAT(text, HasSubstr("# HELP tether_front_requests_total "));
  EXPECT_THAT(text, HasSubstr("# TYPE tether_front_requests_total counter\n"
                              "tether_front_requests_total 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE tether_front_connections_open gauge\n"
                              "tether_front_connections_open 2\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_responses_total{code=\"2xx\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_responses_total{code=\"5xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_health_transitions_total 3\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_info{balancing=\"least-requests\",affinity=\"on\"} 1\n"));
  // Absent counters are absent, not zero.
  EXPECT_THAT(text, Not(HasSubstr("tether_front_retries_total")));
}

TEST(RenderMetrics, HistogramIsCumulativeInSeconds) {
  auto text = render_metrics(status());
  EXPECT_THAT(text, HasSubstr("# TYPE tether_front_request_duration_seconds histogram\n"
                              "tether_front_request_duration_seconds_bucket{le=\"0.001\"} 2\n"
                              "tether_front_request_duration_seconds_bucket{le=\"0.01\"} 5\n"
                              "tether_front_request_duration_seconds_bucket{le=\"+Inf\"} 6\n"
                              "tether_front_request_duration_seconds_sum 0.0425\n"
                              "tether_front_request_duration_seconds_count 6\n"));
}

TEST(RenderMetrics, InstancesAreLabelledAndEscaped) {
  auto text = render_metrics(status());
  EXPECT_THAT(text, HasSubstr("tether_front_instance_requests_total{instance_id=\"a\\\"b\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_instance_requests_total{instance_id=\"c\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_instance_state{instance_id=\"c\",state=\"draining\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(
      "tether_front_instance_responses_total{instance_id=\"a\\\"b\",code=\"5xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_instance_pinned_requests_total{instance_id=\"a\\\"b\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_instance_open_connections{instance_id=\"a\\\"b\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_instances{state=\"up\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_instances{state=\"draining\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tether_front_instances{state=\"down\"} 0\n"));
  // A field no instance has yields no family.
  EXPECT_THAT(text, Not(HasSubstr("tether_front_instance_health_transitions_total")));
}

TEST(RenderMetrics, EveryFamilyIsDeclaredOnceAndEndsWithNewline) {
  auto text = render_metrics(status());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::map<std::string, int> types;
  for (std::size_t pos = 0; (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos)
    ++types[text.substr(pos + 7, text.find(' ', pos + 7) - pos - 7)];
  for (const auto& [name, n] : types) {
    EXPECT_EQ(n, 1) << name;
    EXPECT_EQ(name.rfind("tether_front_", 0), 0u) << name;
  }
}

TEST(RenderMetrics, ToleratesMissingAndOddFields) {
  EXPECT_THAT(render_metrics(boost::json::object{}), HasSubstr("tether_front_info 1\n"));
  auto odd = boost::json::parse(R"({"counters": 5, "latency": {"bounds_ms": [1], "counts": [1]},
                                    "instances": [3, {"state": "up"}, {"id": 7}]})").as_object();
  EXPECT_NO_THROW(render_metrics(odd));
}

TEST(EscapeLabelValue, EscapesBackslashQuoteNewline) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

}  // namespace
}  // namespace tether::front
