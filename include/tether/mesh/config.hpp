#pragma once
// Configuration of an instance's mesh agent ([mesh] in tether.toml, flags of
// `tether serve`, and the environment). docs/mesh.md explains every knob.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <toml++/toml.h>

namespace tether::mesh {

using Millis = std::chrono::milliseconds;

struct MeshConfig {
  bool enabled = false;      // also turned on by an app that needs the mesh
  std::string backplane = "mesh";  // "mesh" | "redis"
  std::string public_url;    // the front door; default https://$WEBSITE_HOSTNAME
  std::string store;         // hub record store URL (store/hub_store.hpp); required for "mesh"
  std::string redis;         // Redis URL or unix socket path, for backplane = "redis"
  std::string key;           // shared secret (TETHER_MESH_KEY); at least 16 characters
  std::string name = "default";  // several meshes may share one store
  Millis liveness{1'000};     // a silent link is dead after this (pings every half)
  Millis store_check{1'000};  // how often a hub re-reads the record
  Millis rejoin_grace{2'000}; // how long the hub keeps a broken member's queue
  Millis publish_timeout{5'000};  // publish() waits this long for window room
  Millis request_timeout{5'000};  // default for request()
  // Acknowledgements (member -> hub "ack", hub -> sender "acked") wait up to
  // this long to be gathered, or ride along with a frame going that way
  // anyway; 0 sends one per message read, as before. Delivery never waits
  // for it: only the sender's window and the hub's queue drain later.
  Millis ack_delay{5};
  std::size_t window = 8'192;               // unacknowledged messages per sender
  std::size_t window_bytes = 16u << 20;     // ... and their payload bytes
  std::size_t member_queue = 65'536;        // unacknowledged frames per member at the hub
  std::size_t max_message_bytes = 1u << 20; // one payload
  bool insecure_tls = false;  // accept any certificate from the front door (local plans)
};

// Reads [mesh] from `root` into `config`. Throws net::ConfigError naming the key.
void load_mesh_config(const toml::table& root, MeshConfig& config);

// TETHER_MESH_KEY, and WEBSITE_HOSTNAME as the default public URL.
void apply_mesh_environment(MeshConfig& config);

// Checks an enabled config is complete: public_url is ws(s)/http(s), a key of
// 16+ characters, a store for the mesh backplane. Throws net::ConfigError.
void validate_mesh_config(const MeshConfig& config);

}  // namespace tether::mesh
