#pragma once
// The Redis HubStore: for meshes that already run a Redis (the session store
// or the Redis backplane). The record of mesh NAME is the hash
// "tether:hub:NAME" (fields epoch, cookie, hub_id, updated_ms);
// compare_and_set is one Lua script run with EVALSHA (EVAL when the server
// does not know it yet), which Redis runs atomically, so exactly one
// concurrent writer wins per epoch. updated_ms comes from the server's TIME.
//
// Durability is Redis's: a server without persistence (no AOF/RDB) that
// restarts comes back empty, and the next election starts again at epoch 1.
// Run the hub's Redis with appendonly yes when epochs must survive restarts.
//
// One blocking connection per store object, guarded by a mutex; a failed
// connect or command drops it and the next call reconnects.
#include <memory>
#include <string>

#include "tether/store/hub_store.hpp"

namespace tether::store {

// Where a Redis hub store lives, from its URL (see open_redis_hub_store).
struct RedisLocation {
  std::string host;      // TCP host; empty for a unix socket
  int port = 6379;
  std::string socket;    // absolute unix socket path; empty for TCP
  std::string password;  // AUTH when not empty
  int db = 0;            // SELECT when not 0
};

// The one Redis URL parser (the hub store, the session store and the Redis
// backplane's connection all use it). Parses
// "redis://[:password@]host[:port][/db]", "redis:///abs/path.sock" (an empty
// host names a unix socket), "redis+unix:///abs/path.sock",
// "unix:///abs/path.sock", "unix:/abs/path.sock" or a bare "/abs/path.sock",
// the socket forms optionally with "?db=N". Throws std::invalid_argument
// naming the URL and what is wrong.
RedisLocation parse_redis_location(const std::string& url);

// Connects (2 s connect and command timeout) and loads the CAS script.
// Throws StoreError ("redis <where>: ...") when the server cannot be reached
// or refuses, std::invalid_argument for a malformed URL.
std::unique_ptr<HubStore> open_redis_hub_store(const std::string& url);

}  // namespace tether::store
