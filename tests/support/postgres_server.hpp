#pragma once
// A throwaway PostgreSQL 15 server for integration tests: initdb in a fresh
// temp directory, postgres started as a child process (tracked by PID, never
// found by name), listening only on a unix socket in that directory (no TCP
// port at all), trust authentication, fsync off. Readiness is polled with
// PQping until it answers. stop() sends SIGINT (fast shutdown: sessions are
// told and closed) and SIGKILL after a grace period; start() brings it back
// on the same data directory, so a test can take the store away from a live
// client and give it back. The destructor stops it and removes the directory.
//
// Running as root: initdb and postgres refuse to run as root. When the test
// runs as root (containers, CI), the harness runs both through
// `setpriv --reuid --regid --clear-groups --pdeathsig SIGKILL` (util-linux,
// always present on Debian) as the `postgres` system user that the
// postgresql package creates, or as `nobody` when that user is missing; the
// temp directory (under $TMPDIR, or /tmp when $TMPDIR is not traversable by
// others) is chown'ed to that user. setpriv execs, so the PID we track is the
// postmaster's, and --pdeathsig re-arms the parent-death signal that the uid
// change clears, so a crashed test leaves no server behind. The database
// superuser is named after the test's own user (initdb -U), so conninfo()
// connects as that user either way. Not root: everything runs as the
// current user, no setpriv.
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace tether::test {

class PostgresServer {
 public:
  // Creates the cluster and starts the server; returns once it accepts
  // connections. Throws std::runtime_error (with the server's output) when
  // initdb or postgres fail or it is not ready within a generous bound.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Stops the server (SIGINT, then SIGKILL after 10 s) and waits for the
  // postmaster to exit. No-op when stopped. May run twice.
  void stop();
  // Starts the server again on the same data directory and waits until it
  // accepts connections. No-op when running. Throws std::runtime_error.
  void start();
  bool running();

  // "host=<dir> port=5432 dbname=postgres user=<current user>": the libpq
  // key=value form (also accepted by store::open_hub_store).
  std::string conninfo() const;
  // The same target as a postgresql:// URI for store::open_hub_store.
  std::string url() const;
  const std::string& socket_dir() const { return dir_; }
  pid_t pid() const;  // the postmaster's, -1 when stopped

 private:
  std::vector<std::string> as_server_user(std::vector<std::string> argv) const;
  void wait_ready();

  std::string dir_;       // socket directory; the cluster is in dir_/data
  std::string db_user_;   // the database superuser: the test's own user name
  std::vector<std::string> run_as_;  // setpriv prefix when running as root
  std::unique_ptr<Process> proc_;
};

}  // namespace tether::test
