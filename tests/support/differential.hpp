#pragma once
// The harness of the front-door differential test
// (tests/integration/front_differential_test.cpp): send one hostile byte
// string to a front door, read every response it gives, and collect what
// reached its RecordingBackend meanwhile; then check that a fresh client
// still gets its own answer (response poisoning). Also starts HAProxy and
// nginx in front of a backend, by path, on ports the OS picks, stopped by PID.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/raw_http.hpp"
#include "support/process.hpp"
#include "support/recording_backend.hpp"

namespace tether::test {

// What came back on one client connection.
using Exchange = RawExchange;  // support/raw_http.hpp

// Connects to 127.0.0.1:port, sends `bytes`, half-closes (no more requests
// follow) and reads until the peer closes or `limit` passes.
Exchange exchange_raw(std::uint16_t port, std::string_view bytes,
                      std::chrono::seconds limit = std::chrono::seconds(10));

struct Response {
  int status = 0;  // -1: bytes that are no HTTP response
  std::string head;
  std::string body;
};

// The responses in `raw`, in order. Parsing stops after a 101 (what follows
// is tunnel data, returned in `after_101`) and at the first bytes that are no
// response (then a status -1 entry ends the list).
std::vector<Response> split_responses(const std::string& raw, std::string* after_101 = nullptr);

// One hostile request through one front door.
struct Outcome {
  std::vector<Response> responses;
  std::string after_101;
  bool hung = false;  // the front door never closed
  std::uint16_t client_port = 0;
  std::vector<RecordingBackend::Received> received;  // complete requests, in order
  std::vector<std::string> strict_errors;            // violations the backend saw
  std::string backend_bytes;                         // every byte the backend got
  bool victim_ok = false;                            // GET /victim got "GET /victim"
  std::string victim_answer;

  int first_status() const { return responses.empty() ? 0 : responses.front().status; }
  std::size_t count_2xx() const;
  bool smuggled() const;  // a request for /smuggled reached the backend
  // "400", "200 x2 fwd=1", "502 fwd=1 STRICT(...)", ...: for the comparison table.
  std::string summary() const;
};

// Sends `bytes` to the front door on `port` (whose instance is `backend`),
// then GET /victim on a fresh connection.
Outcome run_case(std::uint16_t port, RecordingBackend& backend, const std::string& bytes);

// A front door other than tether, in front of one RecordingBackend.
struct OtherFront {
  std::string name;
  std::unique_ptr<Process> proc;
  std::uint16_t port = 0;
};

// HAProxy (/usr/sbin/haproxy) in mode http with keep-alive and
// `http-reuse always` toward `backend`; nullopt with `why` when missing or it
// does not come up.
std::optional<OtherFront> start_haproxy(const RecordingBackend& backend, std::string& why);

// nginx (/usr/sbin/nginx) as the usual WebSocket-capable reverse proxy:
// HTTP/1.1 and a keep-alive pool upstream, Upgrade/Connection passed as the
// nginx documentation shows, everything inside a temp dir.
std::optional<OtherFront> start_nginx(const RecordingBackend& backend, std::string& why);

}  // namespace tether::test
