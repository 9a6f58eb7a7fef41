#pragma once
// One SignalR connection as the hub and its transport share it. The hub
// queues framed messages in `output` and cancels `wake`; the transport (one
// of realtime/transport_*.cpp) writes them, feeds what the client sends to
// Hub::receive, and calls Hub::remove when it ends.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "tether/realtime/hub_protocol.hpp"

namespace tether::realtime {

enum class TransportKind { none, websockets, server_sent_events, long_polling };
const char* to_string(TransportKind t);

class HubCall;       // realtime/hub.hpp
class ClientStream;  // realtime/hub.hpp

class Connection {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Connection(boost::asio::any_io_executor ex)
      : wake(ex, Clock::time_point::max()) {}

  std::string id;     // what the hub API and other clients see
  std::string token;  // what the client presents as ?id= (version 0: the id)
  std::string user;
  boost::json::object claims;         // the bearer token's, when the hub checks tokens
  std::int64_t token_expires_at = 0;  // its `exp`, Unix seconds (0: no token)
  TransportKind transport = TransportKind::none;
  bool handshaken = false;      // the handshake is answered: hub messages flow
  bool handshake_seen = false;  // the client's handshake was accepted (answered once synced)
  Protocol protocol = Protocol::json;
  bool binary() const { return protocol == Protocol::messagepack; }
  bool closing = false;  // the hub is done with it: write what is queued, then end
  bool gone = false;     // removed from the hub

  std::string input;  // bytes received, not yet a whole record
  std::deque<std::string> output;  // each framed in `protocol` (the handshake answer: JSON)
  boost::asio::steady_timer wake;  // cancelled when output grows or closing is set

  Clock::time_point created = Clock::now(), started{}, last_heard = Clock::now(),
                    last_sent = Clock::now();
  std::set<std::string> groups;

  // Calls in progress (Hub::on_call, on_stream_call) by invocation id (or
  // "#<n>" for one without), client-to-server streams by stream id, and the
  // client results this client owes (hub_calls.cpp).
  std::map<std::string, std::shared_ptr<HubCall>> calls;
  std::map<std::string, std::shared_ptr<ClientStream>> uploads;
  std::set<std::string> owed_results;
  std::uint64_t next_call = 0;
  std::size_t open_calls() const { return calls.size() + uploads.size() + owed_results.size(); }

  // Long polling: the current poll's number, whether one is open, when the last ended.
  std::uint64_t poll_generation = 0;
  bool polling = false;
  Clock::time_point last_poll = Clock::now();

  // Everything queued, concatenated (and the queue emptied).
  std::string take_output() {
    std::string out;
    for (auto& m : output) out += m;
    output.clear();
    last_sent = Clock::now();
    return out;
  }
};

}  // namespace tether::realtime
