// The local API's feeds without sockets: order, resume after Last-Event-ID,
// gaps when the app reads too slowly, expiry after the grace.
#include "tether/sidecar/detail/feeds.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace tether::sidecar {
namespace {

// The "data:" lines of `text`, in order (gap events as "gap:<dropped>").
std::vector<std::string> datas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  bool gap = false;
  while ((at = text.find('\n', at)) != std::string::npos) {
    ++at;
    if (text.compare(at, 11, "event: gap\n") == 0) gap = true;
    if (text.compare(at, 6, "data: ") == 0) {
      auto end = text.find('\n', at);
      auto d = text.substr(at + 6, end - at - 6);
      if (gap) {
        auto n = d.substr(d.find(':') + 1);
        out.push_back("gap:" + n.substr(0, n.find(',')));
        gap = false;
      } else {
        out.push_back(d);
      }
    }
  }
  return out;
}

std::vector<std::string> take(Feed& f) { return datas("\n" + f.take()); }

TEST(Feed, EventsComeOutInOrderWithStreamAndSequence) {
  Feed f("s1", {"a"}, {});
  f.push("", "one");
  f.push("joined", "two");
  EXPECT_TRUE(f.has_output());
  auto text = f.take();
  EXPECT_EQ(text, "id: s1/1\ndata: one\n\nevent: joined\nid: s1/2\ndata: two\n\n");
  EXPECT_FALSE(f.has_output());
  EXPECT_EQ(f.take(), "");
}

TEST(Feed, ACloudEventGetsTheEventsIdAsItsOwn) {
  Feed f("s9", {"a"}, {});
  f.push("", "{\"specversion\":\"1.0\"}", /*with_id=*/true);
  EXPECT_EQ(f.take(), "id: s9/1\ndata: {\"id\":\"s9/1\",\"specversion\":\"1.0\"}\n\n");
}

TEST(Feed, ResumeSendsAgainWhatTheClientDidNotConfirm) {
  Feed f("s", {"a"}, {});
  for (int i = 1; i <= 5; ++i) f.push("", std::to_string(i));
  EXPECT_EQ(take(f).size(), 5u);
  f.resume_after(3);  // the client saw 1..3
  EXPECT_EQ(take(f), (std::vector<std::string>{"4", "5"}));
  f.resume_after(99);  // beyond what was sent: nothing again, nothing invented
  EXPECT_EQ(take(f), std::vector<std::string>{});
}

TEST(Feed, ASlowReaderLosesTheOldestAndIsToldHowMany) {
  FeedLimits limits;
  limits.max_events = 3;
  Feed f("s", {"a"}, limits);
  for (int i = 1; i <= 5; ++i) f.push("", std::to_string(i));
  EXPECT_EQ(f.dropped(), 2u);
  EXPECT_EQ(take(f), (std::vector<std::string>{"gap:2", "3", "4", "5"}));
  // Nothing more is announced twice.
  f.push("", "6");
  EXPECT_EQ(take(f), (std::vector<std::string>{"6"}));
}

TEST(Feed, TheByteLimitBoundsMemoryToo) {
  FeedLimits limits;
  limits.max_bytes = 200;
  Feed f("s", {"a"}, limits);
  for (int i = 0; i < 20; ++i) f.push("", std::string(50, 'x'));
  EXPECT_GT(f.dropped(), 0u);
  EXPECT_LE(f.queued(), 4u);
  auto out = take(f);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front().rfind("gap:", 0), 0u);
}

TEST(Feed, ResumeAfterEvictionAnnouncesTheHoleExactly) {
  FeedLimits limits;
  limits.max_events = 3;
  Feed f("s", {"a"}, limits);
  for (int i = 1; i <= 3; ++i) f.push("", std::to_string(i));
  EXPECT_EQ(take(f).size(), 3u);                               // written, but the client saw only 1
  for (int i = 4; i <= 6; ++i) f.push("", std::to_string(i));  // 1..3 evicted
  f.resume_after(1);
  // 2 and 3 are gone: a gap of exactly the missing ids, then 4..6.
  EXPECT_EQ(take(f), (std::vector<std::string>{"gap:2", "4", "5", "6"}));
}

TEST(EventId, ParsesStreamAndSequence) {
  auto id = parse_event_id("abc/42");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->stream, "abc");
  EXPECT_EQ(id->seq, 42u);
  EXPECT_FALSE(parse_event_id("abc"));
  EXPECT_FALSE(parse_event_id("abc/"));
  EXPECT_FALSE(parse_event_id("/4"));
  EXPECT_FALSE(parse_event_id("abc/4x"));
}

TEST(FeedRegistry, DeliversByTopicAndExpiresDetachedFeedsAfterTheGrace) {
  FeedLimits limits;
  limits.grace = std::chrono::seconds(30);
  FeedRegistry r(limits);
  auto a = r.open({"x", "y"});
  auto b = r.open({"y"});
  EXPECT_EQ(r.subscribers("y"), 2u);
  EXPECT_EQ(r.deliver("y", "", "m"), 2u);
  EXPECT_EQ(r.deliver("x", "", "n"), 1u);
  EXPECT_EQ(r.deliver("z", "", "o"), 0u);
  a->attached = true;
  b->attached = false;
  const auto t0 = Clock::now();
  b->detached_at = t0;
  EXPECT_TRUE(r.expire(t0 + std::chrono::seconds(29)).empty());
  EXPECT_EQ(r.find(b->stream()), b);
  // Past the grace: b goes; "y" is still a's, so no topic is released.
  EXPECT_TRUE(r.expire(t0 + std::chrono::seconds(31)).empty());
  EXPECT_EQ(r.find(b->stream()), nullptr);
  EXPECT_EQ(r.expired_undelivered(b->stream()), 1u);  // "m" was never taken
  a->attached = false;
  a->detached_at = t0;
  auto released = r.expire(t0 + std::chrono::seconds(31));
  std::sort(released.begin(), released.end());
  EXPECT_EQ(released, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.feeds_expired(), 2u);
}

TEST(FeedRegistry, ANewFeedNobodyAttachedYetKeepsItsGraceFromItsOpening) {
  // A sweep between opening a feed and attaching its writer (the writer
  // waits for the hub first) must not take it: that lost every message a
  // freshly subscribed app was then sent.
  FeedLimits limits;
  limits.grace = std::chrono::seconds(30);
  FeedRegistry r(limits);
  const auto before = Clock::now();
  auto f = r.open({"x"});
  EXPECT_TRUE(r.expire(before + std::chrono::seconds(1)).empty());
  EXPECT_EQ(r.find(f->stream()), f);
  EXPECT_EQ(r.feeds_expired(), 0u);
  // Never attached at all: it goes after the grace, as a detached one does.
  EXPECT_EQ(r.expire(Clock::now() + std::chrono::seconds(31)), (std::vector<std::string>{"x"}));
}

TEST(FeedRegistry, TheNewestAttachedFeedAnswersRequests) {
  FeedRegistry r({});
  auto a = r.open({"q"});
  auto b = r.open({"q"});
  EXPECT_EQ(r.responder("q"), b);  // none attached: the newest kept
  a->attached = true;
  EXPECT_EQ(r.responder("q"), a);
  EXPECT_EQ(r.responder("other"), nullptr);
}

}  // namespace
}  // namespace tether::sidecar
