#pragma once
// SignalR transports as a hostile client drives them, for the bad-input
// tests: a WebSocket that sends any bytes in text or binary frames and reads
// records one at a time, the status of a WebSocket upgrade, and a
// Server-Sent Events response read from a plain socket. Every call is
// bounded by a deadline that only turns a hang into a failure.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace tether::test {

inline constexpr char kSignalrRecordSeparator = '\x1e';

class HubSocket {
 public:
  // Connects to 127.0.0.1:port and upgrades at `target`; throws on failure.
  HubSocket(std::uint16_t port, const std::string& target);
  ~HubSocket();
  HubSocket(const HubSocket&) = delete;
  HubSocket& operator=(const HubSocket&) = delete;

  // Sends one frame; false when the write failed (the server may close first).
  bool send(const std::string& bytes, bool binary = false);

  // The next record without its separator (a frame may carry several, or a
  // part of one); nullopt when the connection closed (timed_out() false)
  // or `limit` passed (true; the socket is closed then).
  std::optional<std::string> next_record(std::chrono::seconds limit = std::chrono::seconds(60));

  // The next hub message other than a Ping, as a JSON object (a record that
  // is not one is a test failure).
  std::optional<boost::json::object> next_message(
      std::chrono::seconds limit = std::chrono::seconds(60));

  // The next MessagePack hub message other than a Ping, its VarInt length
  // prefix removed (after a "messagepack" handshake, whose "{}" answer
  // next_record() reads); nullopt as next_record().
  std::optional<std::string> next_binary_message(
      std::chrono::seconds limit = std::chrono::seconds(60));

  // True when the server ends the connection with nothing more to say (not
  // a timeout; a record that still comes is a test failure).
  bool ends();

  bool timed_out() const;
  // The code of the close frame the server sent (0: none came).
  int close_code() const;

  // Sends a normal close frame and waits for the answer.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The status a WebSocket upgrade at `target` gets (101 when accepted).
int upgrade_status(std::uint16_t port, const std::string& target);

// A GET with Accept: text/event-stream, its response read as it arrives
// (chunked transfer coding decoded).
class EventStream {
 public:
  // Sends the request and reads the response head; throws when none comes.
  EventStream(std::uint16_t port, const std::string& target);
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  int status() const { return status_; }
  const std::string& head() const { return head_; }
  const std::string& body() const { return body_; }

  // Reads until the body holds `needle` (true), or the response ends or
  // `limit` passes (false).
  bool wait_for(std::string_view needle, std::chrono::seconds limit = std::chrono::seconds(60));

  // Reads until the response ends (its last chunk, or the peer closing):
  // false when `limit` passed first.
  bool wait_for_end(std::chrono::seconds limit = std::chrono::seconds(60));

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);
  void decode();
  int fd_ = -1;
  int status_ = 0;
  bool chunked_ = false, ended_ = false;
  std::string head_, raw_, body_;
};

}  // namespace tether::test
