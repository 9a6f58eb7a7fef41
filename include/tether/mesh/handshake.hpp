#pragma once
// The mesh handshake's JSON messages (docs/mesh.md, "Wire format"): parse,
// build, and the exact texts the MACs cover. Pure code: no I/O.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::mesh {

// What an accepted peer may send before its hello is checked: the hello's
// JSON (ids, nonce, MAC, the previous members' ids: about 900 64-character
// ids fit), never Beast's 16 MiB default (issue 13). After the hello the
// hub raises it (Link::read_limit_after_hello). hello_json() keeps a hello
// under it.
constexpr std::size_t kHelloReadLimit = 64 * 1024;

struct Challenge {
  std::string id;     // the answering instance
  std::string nonce;
  std::int64_t epoch = 0;
};

struct Hello {
  std::string id, stream, nonce, mac;
  std::int64_t epoch = 0;
  std::uint64_t received = 0;
  // The member's view before this join (empty on its first join): a new hub
  // holds relaying until these members are back (docs/mesh.md, "settling").
  std::string previous_hub;
  std::vector<std::string> previous_members;
};

struct Welcome {
  bool refused = false;
  std::string reason;  // when refused
  std::string id, mac;
  std::int64_t epoch = 0;
  bool resumed = false;
  // Resumed: the highest seq of the member's stream the hub already took in
  // this session; the member resends only what comes after it.
  std::uint64_t have = 0;
  std::vector<std::string> members;
};

std::string challenge_json(const Challenge& c);
std::optional<Challenge> parse_challenge(const std::string& text);

// The hello for `challenge_nonce`, MAC filled in from `key`.
std::string hello_json(const std::string& key, const std::string& challenge_nonce, Hello h);
std::optional<Hello> parse_hello(const std::string& text);
// What the hello MAC must be.
std::string hello_mac(const std::string& key, const std::string& challenge_nonce, const Hello& h);

std::string welcome_text(const std::string& hello_nonce, const std::string& hub_id,
                         std::int64_t epoch);
std::optional<Welcome> parse_welcome(const std::string& text);
std::string refused_json(const std::string& reason);

}  // namespace tether::mesh
