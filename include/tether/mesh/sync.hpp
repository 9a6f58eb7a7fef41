#pragma once
// "The hub has my subscriptions": a request from this instance to itself
// through the backplane. It is answered only after the hub read every frame
// this instance sent before it (one link, in order), its subscribe frames
// included, so whatever another instance publishes after it returns reaches
// this instance's new subscribers. Used before a subscriber is told it is
// ready (the local API's feeds, a SignalR handshake).
#include <chrono>

#include <boost/asio/awaitable.hpp>

#include "tether/mesh/backplane.hpp"

namespace tether::mesh {

// Answers the round trip on `backplane` (make_backplane does this for the
// backplanes it makes).
void answer_sync(Backplane& backplane);

// Returns once the round trip came back, at once before the first join (the
// hub learns every subscription with the join), or after `timeout`; false
// when it failed (then the subscriptions are probably, not surely, in place).
asio::awaitable<bool> sync_subscriptions(
    Backplane& backplane, std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace tether::mesh
