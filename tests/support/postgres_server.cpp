#include "support/postgres_server.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace tether::test {

namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

std::string user_name(uid_t uid) {
  if (passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  throw std::runtime_error("postgres harness: no user name for uid " + std::to_string(uid));
}

// A directory the server user can reach: $TMPDIR when others may traverse
// it, else /tmp.
std::string make_dir(bool for_other_user) {
  std::filesystem::path base = std::filesystem::temp_directory_path();
  struct stat st {};
  if (for_other_user && (::stat(base.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)))
    base = "/tmp";
  std::string tmpl = (base / "tether-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("postgres harness: mkdtemp in " + base.string() + " failed");
  return tmpl;
}

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

PostgresServer::PostgresServer() {
  db_user_ = user_name(::geteuid());
  bool root = ::geteuid() == 0;
  dir_ = make_dir(root);
  if (root) {
    passwd* pw = ::getpwnam("postgres");
    if (!pw) pw = ::getpwnam("nobody");
    if (!pw) throw std::runtime_error("postgres harness: running as root and no postgres/nobody user");
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (::chown(dir_.c_str(), uid, gid) != 0)
      throw std::runtime_error("postgres harness: chown " + dir_ + " failed");
    run_as_ = {"/usr/bin/setpriv",  "--reuid",      std::to_string(uid), "--regid",
               std::to_string(gid), "--clear-groups", "--pdeathsig",     "SIGKILL",
               "--"};
  }

  Process initdb(as_server_user({kBin + "initdb", "--pgdata", dir_ + "/data", "--username",
                                 db_user_, "--auth", "trust", "--no-locale", "--encoding",
                                 "UTF8", "--no-sync", "--no-instructions"}));
  initdb.drain_stdout(std::chrono::seconds(120));
  int rc = initdb.wait(std::chrono::seconds(120));
  if (rc != 0)
    throw std::runtime_error("postgres harness: initdb exited with " + std::to_string(rc) +
                             "\nstdout:\n" + initdb.stdout_text() + "\nstderr:\n" +
                             initdb.stderr_text());
  start();
}

PostgresServer::~PostgresServer() {
  try {
    stop();
  } catch (...) {
    // The Process destructor kills by PID whatever is left.
  }
  proc_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> PostgresServer::as_server_user(std::vector<std::string> argv) const {
  std::vector<std::string> full = run_as_;
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

void PostgresServer::start() {
  if (running()) return;
  proc_ = std::make_unique<Process>(as_server_user({
      kBin + "postgres", "-D", dir_ + "/data",
      "-c", "listen_addresses=",        // no TCP at all
      "-k", dir_,                       // unix_socket_directories
      "-c", "fsync=off",                // throwaway data
      "-c", "full_page_writes=off",
      "-c", "max_connections=50",
      "-c", "shared_buffers=16MB",
  }));
  wait_ready();
}

void PostgresServer::wait_ready() {
  std::string info = conninfo() + " connect_timeout=2";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    if (PQping(info.c_str()) == PQPING_OK) return;
    if (!proc_->running())
      throw std::runtime_error("postgres harness: postgres exited while starting; stderr:\n" +
                               proc_->stderr_text());
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("postgres harness: not ready in time; stderr:\n" +
                               proc_->stderr_text());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void PostgresServer::stop() {
  if (!running()) return;
  proc_->stop(SIGINT);  // fast shutdown
}

bool PostgresServer::running() { return proc_ && proc_->running(); }

pid_t PostgresServer::pid() const { return proc_ ? proc_->pid() : -1; }

std::string PostgresServer::conninfo() const {
  return "host=" + dir_ + " port=5432 dbname=postgres user=" + db_user_;
}

std::string PostgresServer::url() const {
  return "postgresql://" + percent_encode(db_user_) + "@/postgres?host=" + percent_encode(dir_) +
         "&port=5432";
}

}  // namespace tether::test
