#pragma once
// A throwaway Azurite (Microsoft's Azure Storage emulator, npm package
// pinned in tests/azurite/package.json) serving the Table service for
// integration tests: `node .../azurite/dist/src/table/main.js` started as a
// child process (tracked by PID, never found by name) with
// --inMemoryPersistence, on a port the OS picks (--tablePort 0). Azurite
// does not print the port it got, so the harness reads it from the kernel:
// the LISTEN socket in /proc/<pid>/net/tcp whose inode is one of the
// process's own descriptors. Readiness is polled with an HTTP request.
// Azurite checks SharedKey signatures, so the stores under test must sign.
//
// With a certificate and key it serves HTTPS (--cert/--key) and the
// connection strings say https. Persistent, it keeps its tables in a temp
// directory (--location) instead of memory, so a restart keeps them.
//
// stop() sends SIGINT, Azurite's graceful close (SIGKILL after a grace period); start() brings the
// emulator up again on the same port: empty, unless persistent. The
// destructor stops it.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "support/process.hpp"

namespace tether::test {

struct AzuriteOptions {
  std::string cert_path, key_path;  // both set: HTTPS
  bool persistent = false;          // tables survive stop()/start()
};

class AzuriteServer {
 public:
  // Starts the emulator; returns once it answers HTTP. Throws
  // std::runtime_error (with its output) when tests/azurite is not installed
  // (scripts/install-deps.sh does it), it exits, or it is not ready in time.
  explicit AzuriteServer(AzuriteOptions options = {});
  ~AzuriteServer();
  AzuriteServer(const AzuriteServer&) = delete;
  AzuriteServer& operator=(const AzuriteServer&) = delete;

  void stop();   // no-op when stopped
  void start();  // no-op when running; same port as before (empty tables)
  bool running();

  std::uint16_t port() const { return port_; }
  pid_t pid() const;  // -1 when stopped

  // The development account's connection string for this emulator
  // (path-style TableEndpoint), with tether's TableName.
  std::string connection_string(const std::string& table = "tetherhub") const;
  // The same account with a wrong key: requests are refused with 403.
  std::string connection_string_with_wrong_key() const;

 private:
  void wait_ready();

  AzuriteOptions options_;
  std::string dir_;  // --location when persistent
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> proc_;
};

}  // namespace tether::test
