#pragma once
// A mesh without sockets for the core tests: one HubCore and any number of
// MemberCores wired by in-memory "links", on a fake clock. Each link carries
// whole messages both ways; pump() moves them until nothing is left to move,
// batching what is queued (as Link does). A peer can hold its inbox (a member
// that cannot keep up), and a link can break with messages in flight.
#include <chrono>
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tether/mesh/config.hpp"
#include "tether/mesh/detail/hub_core.hpp"
#include "tether/mesh/detail/member_core.hpp"
#include "tether/mesh/frame.hpp"
#include "tether/mesh/handshake.hpp"

namespace tether::mesh::detail::sim {

using namespace std::chrono_literals;

inline MeshConfig test_config() {
  MeshConfig c;
  c.key = "0123456789abcdef-test-key";
  c.rejoin_grace = 2'000ms;
  // Acknowledgements at once: every ordering below is exact per message.
  // The gathered acknowledgements have tests of their own (ack_delay set).
  c.ack_delay = 0ms;
  return c;
}

struct Delivered {
  std::string stream, origin, topic, payload;
  std::uint64_t seq;
  Kind kind;
};

struct Peer {
  std::string id;
  std::unique_ptr<MemberCore> core;
  LinkId link = 0;                 // 0: not connected
  std::deque<std::string> inbox;   // hub -> member, not yet processed
  std::deque<std::string> outbox;  // member -> hub, not yet read by the hub
  std::vector<std::string> sent;   // every binary send of its core, in order
  std::vector<std::string> got;    // every binary send of the hub to it, in order
  bool hold = false;               // do not process the inbox (a slow member)
  std::vector<Delivered> delivered;
  std::vector<std::pair<bool, std::string>> events;  // (joined?, id)
  std::optional<LinkState> link_end;                 // set when on_message ended the link
  std::optional<Welcome> welcome;                    // of the last join
  std::vector<std::string> refused;

  std::vector<std::uint64_t> seqs_from(const std::string& stream) const {
    std::vector<std::uint64_t> out;
    for (const auto& d : delivered)
      if (d.stream == stream) out.push_back(d.seq);
    return out;
  }
};

class Sim {
 public:
  explicit Sim(MeshConfig config = test_config(), std::string hub_id = "H")
      : config_(std::move(config)), hub_id_(std::move(hub_id)) {
    new_hub(hub_id_);
  }

  MeshConfig& config() { return config_; }
  HubCore& hub() { return *hub_; }
  const std::string& hub_id() const { return hub_id_; }
  Clock::time_point now() const { return now_; }
  std::set<LinkId> aborted, finished;

  // The store names the hub at `epoch`.
  bool make_hub(std::int64_t epoch) {
    store::HubRecord rec{epoch, "ARRAffinity=" + hub_id_, hub_id_, 0};
    bool ok = hub_->confirm_epoch(epoch, rec, now_);
    run_hub_actions();
    return ok;
  }

  // A fresh hub instance (the old one died: every link breaks).
  void new_hub(std::string id) {
    for (auto& [pid, p] : peers_)
      if (p.link) break_link(pid);
    hub_id_ = std::move(id);
    hub_ = std::make_unique<HubCore>(config_, hub_id_, "hub:" + hub_id_ + "/0");
  }

  Peer& add(const std::string& id) {
    auto& p = peers_[id];
    p.id = id;
    p.core = std::make_unique<MemberCore>(config_, id, id + "/" + std::to_string(++incarnation_));
    return p;
  }
  // The same instance id, a new process (new stream).
  Peer& restart(const std::string& id) {
    if (peers_[id].link) break_link(id);
    peers_.erase(id);
    return add(id);
  }
  Peer& peer(const std::string& id) { return peers_.at(id); }

  // Opens a link from `id` to the hub, says hello for `epoch`; true when
  // welcomed. Messages are not pumped.
  bool connect(const std::string& id, std::int64_t epoch) {
    auto& p = peer(id);
    p.link = next_link_++;
    p.inbox.clear();
    p.outbox.clear();
    p.link_end.reset();
    link_owner_[p.link] = id;
    Hello hello = p.core->make_hello(hub_id_, epoch, "nonce-" + std::to_string(p.link));
    bool ok = hub_->on_hello(p.link, hello, now_);
    run_hub_actions();
    if (!ok) {
      link_owner_.erase(p.link);
      p.link = 0;
    }
    return ok;
  }
  bool join(const std::string& id, std::int64_t epoch) {
    bool ok = connect(id, epoch);
    pump();
    return ok;
  }

  // The link of `id` breaks: whatever was in flight is lost.
  void break_link(const std::string& id) {
    auto& p = peer(id);
    if (!p.link) return;
    auto link = p.link;
    p.link = 0;
    p.inbox.clear();
    p.outbox.clear();
    p.core->on_link_lost();
    p.core->take_actions();
    link_owner_.erase(link);
    hub_->on_link_lost(link, now_);
    run_hub_actions();
  }

  // Time passes: the hub and every member tick if a deadline of theirs came.
  void advance(Clock::duration d) {
    now_ += d;
    auto at = hub_->next_deadline();
    if (at && *at <= now_) {
      hub_->on_tick(now_);
      run_hub_actions();
    }
    for (auto& [id, p] : peers_) {
      auto due = p.core->next_deadline_ms();
      if (due && *due <= ms()) {
        p.core->on_tick(ms());
        run_member_actions(p);
      }
    }
  }

  // Moves messages until nothing moves.
  void pump() {
    for (int round = 0; round < 10'000; ++round) {
      bool moved = run_hub_actions();
      for (auto& [id, p] : peers_) {
        moved |= run_member_actions(p);
        if (p.link && !p.hold && !p.inbox.empty()) {
          std::string batch;
          for (auto& m : p.inbox) batch += m;
          p.inbox.clear();
          auto state = p.core->on_message(batch, ms());
          moved = true;
          run_member_actions(p);
          if (state != LinkState::open) {
            p.link_end = state;
            break_link(id);
          }
        }
        if (p.link && !p.outbox.empty()) {
          std::string batch;
          for (auto& m : p.outbox) batch += m;
          p.outbox.clear();
          auto link = p.link;
          if (!hub_->on_message(link, batch, now_)) {
            hub_->on_link_lost(link, now_);
            link_owner_.erase(link);
            p.link = 0;
            p.core->on_link_lost();
          }
          moved = true;
        }
      }
      if (!moved) return;
    }
    ADD_FAILURE() << "the simulated mesh did not settle";
  }

  // Submits and sends (not pumped).
  Submit publish(const std::string& id, const std::string& topic, const std::string& payload) {
    auto& p = peer(id);
    auto r = p.core->submit(Kind::publish, topic, topic, 0, payload);
    run_member_actions(p);
    return r;
  }
  void subscribe(const std::string& id, const std::string& topic) {
    auto& p = peer(id);
    p.core->subscribe(topic);
    run_member_actions(p);
  }

  // Hub actions go to the peers' inboxes (welcome and refusals are handled
  // at once, like the shell's handshake). True when there were any.
  bool run_hub_actions() {
    auto actions = hub_->take_actions();
    for (auto& a : actions) {
      auto it = link_owner_.find(a.link);
      if (a.type == HubAction::abort) aborted.insert(a.link);
      if (a.type == HubAction::finish) finished.insert(a.link);
      if (it == link_owner_.end()) continue;
      auto& p = peer(it->second);
      if (p.link != a.link) continue;
      switch (a.type) {
        case HubAction::send:
          p.inbox.push_back(*a.bytes);
          p.got.push_back(*a.bytes);
          break;
        case HubAction::send_text: {
          auto w = parse_welcome(*a.bytes);
          if (!w || w->refused) {
            p.refused.push_back(w ? w->reason : *a.bytes);
            break;
          }
          p.welcome = *w;
          p.core->on_welcome(*w);
          run_member_actions(p);
          break;
        }
        case HubAction::finish: break;  // the member reads what was queued, then the link ends
        case HubAction::abort:
          p.inbox.clear();
          p.outbox.clear();
          p.link = 0;
          p.core->on_link_lost();
          link_owner_.erase(it);
          hub_->on_link_lost(a.link, now_);
          break;
      }
    }
    return !actions.empty();
  }

  bool run_member_actions(Peer& p) {
    auto actions = p.core->take_actions();
    for (auto& a : actions) {
      switch (a.type) {
        case MemberAction::send:
          if (p.link) p.outbox.push_back(*a.bytes);
          p.sent.push_back(*a.bytes);
          break;
        case MemberAction::deliver:
          p.delivered.push_back({a.frame.stream, a.frame.origin, a.frame.topic, a.frame.payload,
                                 a.frame.seq, a.frame.kind});
          break;
        case MemberAction::joined: p.events.emplace_back(true, a.instance_id); break;
        case MemberAction::left: p.events.emplace_back(false, a.instance_id); break;
        default: break;
      }
    }
    return !actions.empty();
  }

  std::int64_t ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count();
  }

 private:
  MeshConfig config_;
  std::string hub_id_;
  std::unique_ptr<HubCore> hub_;
  std::map<std::string, Peer> peers_;
  std::map<LinkId, std::string> link_owner_;
  LinkId next_link_ = 1;
  int incarnation_ = 0;
  Clock::time_point now_{std::chrono::hours(1)};
};

// The hub of epoch 1 with members A and B joined, `subscribed` (A by
// default) subscribed to "t" before joining.
inline void hub_with_a_and_b(Sim& sim, std::initializer_list<const char*> subscribed = {"A"}) {
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  sim.add("B");
  for (const char* id : subscribed) sim.subscribe(id, "t");
  ASSERT_TRUE(sim.join("A", 1));
  ASSERT_TRUE(sim.join("B", 1));
}

}  // namespace tether::mesh::detail::sim
