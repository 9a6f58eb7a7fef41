#pragma once
// One SignalR connection as the hub and its transport share it. The hub
// queues framed messages in `output` (a net::WriteQueue); the transport (one
// of realtime/transport_*.cpp) writes them, feeds what the client sends to
// Hub::receive, and calls Hub::remove when it ends.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include "tether/net/write_queue.hpp"
#include "tether/realtime/hub_protocol.hpp"

namespace tether::realtime {

enum class TransportKind { none, websockets, server_sent_events, long_polling };
const char* to_string(TransportKind t);

class HubCall;       // realtime/hub.hpp
class ClientStream;  // realtime/hub.hpp

class Connection {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Connection(boost::asio::any_io_executor ex) : output(ex) {}

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
  // A framed message many connections share (a broadcast, framed once per
  // protocol): queued by reference, not copied per connection.
  using Shared = std::shared_ptr<const std::string>;
  // One framed message to send, in `protocol` (the handshake answer: JSON):
  // this connection's own, or shared.
  // `sequenced`: it counts in stateful reconnect's sequence (is_sequenced).
  struct Queued {
    std::string own;
    Shared shared;
    bool sequenced = false;
    Queued(std::string b, bool s = false) : own(std::move(b)), sequenced(s) {}  // NOLINT
    Queued(Shared b, bool s) : shared(std::move(b)), sequenced(s) {}
    const std::string& bytes() const { return shared ? *shared : own; }
  };
  // Framed messages for the transport's writer; output.wake() when closing
  // is set or anything else the writer re-reads changed.
  net::WriteQueue<Queued> output;

  // Stateful reconnect (negotiated, protocol version 2, WebSockets): ASP.NET
  // Core's MessageBuffer. Sequenced messages written stay in `unacked` until
  // the client's Ack; past `reconnect_buffer` bytes of them, writing waits
  // for an Ack. When the WebSocket drops, the connection is `detached` for
  // HubOptions::disconnect_timeout; a new WebSocket with the same token gets
  // a Sequence and what was not acknowledged, and the client's own resends
  // are de-duplicated by their implicit sequence ids.
  bool reconnect_offered = false;  // negotiate answered useStatefulReconnect
  bool stateful = false;
  std::size_t reconnect_buffer = 100'000;
  std::deque<Queued> unacked;
  std::int64_t first_unacked = 1;  // the sequence id of unacked.front()
  std::size_t unacked_bytes = 0;
  std::int64_t received = 0;        // the client's last sequenced message processed
  std::int64_t next_receiving = 1;  // the id the client's next sequenced message has
  std::int64_t acked = 0;           // the last Ack sent to the client
  bool awaiting_sequence = false;   // reattached: the client's Sequence comes first
  bool detached = false;
  Clock::time_point detached_at{};
  std::function<void()> supersede;  // ends the current WebSocket (a newer one took over)
  // Drops what the client acknowledged up to `sequence_id`.
  void acknowledge(std::int64_t sequence_id) {
    while (!unacked.empty() && first_unacked <= sequence_id) {
      unacked_bytes -= unacked.front().bytes().size();
      unacked.pop_front();
      ++first_unacked;
    }
  }

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

  // What may be written now, concatenated and taken from the queue: all of
  // it, except that a stateful connection keeps sequenced messages back
  // while `reconnect_buffer` bytes wait for an Ack (not once closing).
  std::string take_output() {
    std::string out;
    while (!output.empty()) {
      auto& m = output.front();
      if (stateful && m.sequenced) {
        if (unacked_bytes >= reconnect_buffer && !closing) break;
        out += m.bytes();
        unacked_bytes += m.bytes().size();
        unacked.push_back(std::move(m));
      } else {
        out += m.bytes();
      }
      output.pop_front();
    }
    if (!out.empty()) last_sent = Clock::now();
    return out;
  }
};

}  // namespace tether::realtime
