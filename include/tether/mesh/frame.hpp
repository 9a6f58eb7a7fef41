#pragma once
// The mesh's binary frames (docs/mesh.md, "Wire format"). One WebSocket
// binary message carries one or more frames, each
//   u32 length | u8 type | u8 kind | u64 seq | u64 correlation |
//   str stream | str origin | str target | str topic | str payload
// with big-endian integers and `str` = u32 length + bytes. Pure code: no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::mesh {

enum class FrameType : std::uint8_t {
  data = 1,         // member -> hub: a message of the member's stream
  ack = 2,          // member -> hub: frames received on this link (seq)
  subscribe = 3,    // member -> hub: topic
  unsubscribe = 4,  // member -> hub: topic
  bye = 5,          // member -> hub: leaving for good
  deliver = 16,     // hub -> member: a message of some stream
  acked = 17,       // hub -> member: the member's own stream is delivered up to seq
  joined = 18,      // hub -> member: target = instance id
  left = 19,        // hub -> member: target = instance id
  stepdown = 20,    // hub -> member: seq = the newer epoch
};

enum class Kind : std::uint8_t {
  publish = 1,      // target = topic: every subscriber
  send = 2,         // target = instance id
  broadcast = 3,    // every member
  request = 4,      // target = instance id, correlation = the requester's id
  reply = 5,        // target = requester instance id, correlation echoed
  reply_error = 6,  // like reply, payload = the error text
};

struct Frame {
  FrameType type = FrameType::data;
  Kind kind = Kind::publish;
  std::uint64_t seq = 0;          // data/deliver: stream seq; ack: count; acked: seq; stepdown: epoch
  std::uint64_t correlation = 0;  // request/reply
  std::string stream;             // deliver: origin stream id
  std::string origin;             // deliver: origin instance id
  std::string target;             // data: topic or instance id; joined/left: instance id
  std::string topic;              // data/deliver; subscribe/unsubscribe
  std::string payload;
};

// A frame whose strings point into the message it was read from (or into
// a Frame: view_of): what the hub relays without copying the payload.
struct FrameView {
  FrameType type = FrameType::data;
  Kind kind = Kind::publish;
  std::uint64_t seq = 0;
  std::uint64_t correlation = 0;
  std::string_view stream, origin, target, topic, payload;
};
FrameView view_of(const Frame& f);
Frame to_frame(const FrameView& v);  // copies the strings

// Appends `f` encoded to `out`.
void append_frame(std::string& out, const Frame& f);
void append_frame(std::string& out, const FrameView& f);

// Size of `f` once encoded.
std::size_t encoded_size(const Frame& f);
std::size_t encoded_size(const FrameView& f);

// A control frame (ack, subscribe, unsubscribe, bye, acked, joined, left,
// stepdown) encoded on its own: `seq` and `text` go where that type keeps
// them (seq; topic for subscribe/unsubscribe, target for joined/left).
std::string encode_control(FrameType type, std::uint64_t seq = 0, const std::string& text = {});

// Reads the frames of one WebSocket message in order.
class FrameReader {
 public:
  explicit FrameReader(std::string_view message) : rest_(message) {}
  // The next frame, or nullopt at the end of the message or on malformed
  // input (then error() says what; the link must be closed).
  std::optional<Frame> next();
  // The same without copying: the views are valid while the message is.
  std::optional<FrameView> next_view();
  const std::string& error() const { return error_; }

 private:
  std::string_view rest_;
  std::string error_;
};

}  // namespace tether::mesh
