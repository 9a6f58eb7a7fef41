#pragma once
// A raw HTTP/1.1 instance for differential tests of front doors (tether
// front, HAProxy, nginx): it records every byte each connection brings,
// reads them with the strict independent parser (strict_http.hpp, never
// Beast), and answers each complete request as its target says, so that a
// response names the request it answers. Blocking POSIX sockets on
// 127.0.0.1, a port the OS picks, one thread per connection.
//
// Answers, by the target's path:
//   /ws, /ws-wrong-accept   a WebSocket handshake (Upgrade: websocket and a
//                           Sec-WebSocket-Key) gets a 101 whose
//                           Sec-WebSocket-Accept is right (/ws) or wrong; the
//                           connection then echoes every byte (a tunnel).
//                           Without a handshake: the plain 200.
//   /hostile-101            a 101 to any request, then echo: an instance that
//                           switches protocols without being asked.
//   /bad-response-two-te    two "Transfer-Encoding: chunked" lines, then close.
//   /bad-response-te-gzip   "Transfer-Encoding: gzip", body until close.
//   /bad-response-two-cl    "Content-Length: 5" and "Content-Length: 6", then close.
//   /bad-response-te-cl     Transfer-Encoding: chunked and Content-Length, then close.
//   /stream-hold            a chunked text/event-stream with one event, then
//                           nothing more: a stream that waits (SSE) until the
//                           front door closes the connection.
//   anything else           "200 OK", Content-Length, body answer_body(method, target).
// A strict-parse violation is recorded and the connection closed unanswered.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/strict_http.hpp"

namespace tether::test {

class RecordingBackend {
 public:
  // One complete request as the strict parser read it.
  struct Received {
    std::size_t connection = 0;  // 1, 2, ... in accept order
    StrictRequest request;
    bool answered_200 = false;  // false: a 101 or a deliberately bad response
  };
  // A position in the record: what arrived after it is "since" the mark.
  struct Mark {
    std::size_t requests = 0, errors = 0, bytes = 0;
  };

  RecordingBackend();   // binds 127.0.0.1:0 and starts accepting; throws on failure
  ~RecordingBackend();  // closes every socket and joins every thread
  RecordingBackend(const RecordingBackend&) = delete;
  RecordingBackend& operator=(const RecordingBackend&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  Mark mark() const;
  std::vector<Received> requests_since(const Mark& m) const;
  // "connection N: <why> near <escaped bytes>" per strict-parse violation.
  std::vector<std::string> errors_since(const Mark& m) const;
  // Every byte received after `m`, all connections interleaved as they came.
  std::string bytes_since(const Mark& m) const;

  // Connections the peer (the front door) has closed so far.
  std::size_t closed_connections() const;

  // The body of the plain 200 answer to a request: "METHOD TARGET".
  static std::string answer_body(const std::string& method, const std::string& target);

 private:
  struct Connection;
  void accept_loop();
  void serve(std::shared_ptr<Connection> c);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<std::thread> threads_;
  std::vector<Received> requests_;
  std::vector<std::string> errors_;
  std::string bytes_;
  std::thread acceptor_;
};

// `bytes` with CR, LF, controls and bytes >= 0x80 escaped (\r, \n, \xNN), for messages.
std::string escape_bytes(std::string_view bytes, std::size_t limit = 400);

}  // namespace tether::test
