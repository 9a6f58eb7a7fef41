#pragma once
// A Server-Sent Events client for tests: one GET on 127.0.0.1:port, then
// events read one by one (the body plain or chunked), each read bounded by a deadline (a bound that
// turns a hang into a failure, never a timing assertion).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::test {

struct SseEvent {
  std::string event;  // "" for the default type ("message")
  std::string id;
  std::string data;  // data lines joined by "\n"
};

class SseClient {
 public:
  // Sends GET `target` with `headers` ("Name: value"); reads the response
  // header. Throws when the connect fails.
  SseClient(std::uint16_t port, const std::string& target, std::vector<std::string> headers = {});
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // The response status (0 when no header arrived) and its header block.
  int status() const { return status_; }
  const std::string& head() const { return head_; }

  // The next event (comments skipped); nullopt when the stream ended or
  // `limit` passed.
  std::optional<SseEvent> next(std::chrono::seconds limit = std::chrono::seconds(30));
  // Closes the connection.
  void close();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  void dechunk();
  int fd_ = -1;
  bool chunked_ = false;
  bool ended_ = false;  // the last (0-size) chunk came
  std::string raw_;     // chunked bytes not decoded yet
  std::string buffer_;  // the event stream
  std::string head_;
  int status_ = 0;
};

}  // namespace tether::test
