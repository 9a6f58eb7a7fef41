// The mesh's binary frames: round trips, several frames per message, and
// malformed input reported, never crashed on.
#include <gtest/gtest.h>

#include "tether/mesh/frame.hpp"

namespace tether::mesh {
namespace {

Frame sample() {
  Frame f;
  f.type = FrameType::deliver;
  f.kind = Kind::request;
  f.seq = 0x0102030405060708ull;
  f.correlation = 42;
  f.stream = "abc/1234";
  f.origin = "abc";
  f.target = "def";
  f.topic = "chat";
  f.payload = std::string("bin\0ary", 7);
  return f;
}

TEST(MeshFrame, RoundTripsEveryField) {
  std::string bytes;
  append_frame(bytes, sample());
  EXPECT_EQ(bytes.size(), encoded_size(sample()));
  FrameReader r(bytes);
  auto f = r.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, FrameType::deliver);
  EXPECT_EQ(f->kind, Kind::request);
  EXPECT_EQ(f->seq, 0x0102030405060708ull);
  EXPECT_EQ(f->correlation, 42u);
  EXPECT_EQ(f->stream, "abc/1234");
  EXPECT_EQ(f->origin, "abc");
  EXPECT_EQ(f->target, "def");
  EXPECT_EQ(f->topic, "chat");
  EXPECT_EQ(f->payload, std::string("bin\0ary", 7));
  EXPECT_FALSE(r.next());
  EXPECT_TRUE(r.error().empty());
}

TEST(MeshFrame, ManyFramesInOneMessageKeepTheirOrder) {
  std::string bytes;
  for (std::uint64_t i = 1; i <= 100; ++i) {
    Frame f;
    f.type = FrameType::data;
    f.seq = i;
    f.payload = std::string(i, 'x');
    append_frame(bytes, f);
  }
  FrameReader r(bytes);
  for (std::uint64_t i = 1; i <= 100; ++i) {
    auto f = r.next();
    ASSERT_TRUE(f) << i << ": " << r.error();
    EXPECT_EQ(f->seq, i);
    EXPECT_EQ(f->payload.size(), i);
  }
  EXPECT_FALSE(r.next());
}

TEST(MeshFrame, EveryTruncationIsAnErrorNotACrash) {
  std::string bytes;
  append_frame(bytes, sample());
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    FrameReader r(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(r.next()) << n;
    EXPECT_FALSE(r.error().empty()) << n;
  }
}

TEST(MeshFrame, UnknownTypeAndLyingLengthsAreRejected) {
  std::string bytes;
  append_frame(bytes, sample());
  auto bad_type = bytes;
  bad_type[4] = 99;
  FrameReader r1(bad_type);
  EXPECT_FALSE(r1.next());
  EXPECT_NE(r1.error().find("unknown frame type"), std::string::npos);

  auto bad_inner = bytes;
  bad_inner[4 + 18 + 3] = 100;  // stream length claims more than there is
  FrameReader r2(bad_inner);
  EXPECT_FALSE(r2.next());
  EXPECT_FALSE(r2.error().empty());

  std::string huge = "\xff\xff\xff\xff";
  FrameReader r3(huge);
  EXPECT_FALSE(r3.next());
  EXPECT_FALSE(r3.error().empty());
}

TEST(MeshFrame, ControlFramesKeepTheirFieldWhereTheTypeReadsIt) {
  auto bytes = encode_control(FrameType::subscribe, 0, "chat") +
               encode_control(FrameType::left, 0, "instance-b") +
               encode_control(FrameType::acked, 41);
  FrameReader r(bytes);
  auto sub = r.next(), left = r.next(), acked = r.next();
  ASSERT_TRUE(sub && left && acked) << r.error();
  EXPECT_EQ(sub->type, FrameType::subscribe);
  EXPECT_EQ(sub->topic, "chat");
  EXPECT_EQ(left->type, FrameType::left);
  EXPECT_EQ(left->target, "instance-b");
  EXPECT_EQ(acked->seq, 41u);
  EXPECT_FALSE(r.next());
}

// The hub relays from views into the message it read: the payload is not
// copied out of it, and a view encodes exactly like the frame it shows.
TEST(MeshFrame, ViewsPointIntoTheMessageAndEncodeLikeFrames) {
  Frame f;
  f.type = FrameType::deliver;
  f.kind = Kind::request;
  f.seq = 7;
  f.correlation = 9;
  f.stream = "a/1";
  f.origin = "a";
  f.target = "b";
  f.topic = "t";
  f.payload = std::string(1000, 'p');
  std::string bytes;
  append_frame(bytes, f);
  FrameReader r(bytes);
  auto v = r.next_view();
  ASSERT_TRUE(v) << r.error();
  EXPECT_GE(v->payload.data(), bytes.data());
  EXPECT_LE(v->payload.data() + v->payload.size(), bytes.data() + bytes.size());
  EXPECT_EQ(v->payload, f.payload);
  std::string again;
  append_frame(again, *v);
  EXPECT_EQ(again, bytes);
  EXPECT_EQ(encoded_size(*v), bytes.size());
  auto back = to_frame(*v);
  EXPECT_EQ(back.stream, f.stream);
  EXPECT_EQ(back.correlation, 9u);
  EXPECT_EQ(back.payload, f.payload);
  EXPECT_FALSE(r.next_view());
}

}  // namespace
}  // namespace tether::mesh
