#include "support/azurite_server.hpp"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tether/http/client.hpp"

#ifndef TETHER_AZURITE_DIR
#error "TETHER_AZURITE_DIR (tests/azurite) must be defined by the build"
#endif

namespace tether::test {

namespace {

constexpr const char* kAccount = "devstoreaccount1";
constexpr const char* kKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string node_binary() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"})
    if (::access(p, X_OK) == 0) return p;
  throw std::runtime_error("azurite harness: no node binary (/usr/bin/node); run "
                           "scripts/install-deps.sh");
}

// Inodes of the sockets among `pid`'s open descriptors.
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code lec;
    auto target = std::filesystem::read_symlink(entry.path(), lec).string();
    if (!lec && target.starts_with("socket:[") && target.ends_with("]"))
      out.insert(target.substr(8, target.size() - 9));
  }
  return out;
}

// The TCP port `pid` listens on (IPv4 or IPv6 table), 0 when none yet.
std::uint16_t listening_port(pid_t pid) {
  auto inodes = socket_inodes(pid);
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode;
      if (state != "0A" || !inodes.count(inode)) continue;  // 0A = LISTEN
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      return static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
    }
  }
  return 0;
}

}  // namespace

AzuriteServer::AzuriteServer(AzuriteOptions options) : options_(std::move(options)) {
  if (options_.persistent) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tether-azurite-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("azurite harness: mkdtemp failed");
    dir_ = tmpl;
  }
  start();
}

AzuriteServer::~AzuriteServer() {
  try {
    stop();
  } catch (...) {
    // The Process destructor kills by PID whatever is left.
  }
  proc_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void AzuriteServer::start() {
  if (running()) return;
  std::string main = std::string(TETHER_AZURITE_DIR) + "/node_modules/azurite/dist/src/table/main.js";
  if (!std::filesystem::exists(main))
    throw std::runtime_error("azurite harness: " + main +
                             " is missing; run scripts/install-deps.sh (npm ci in tests/azurite)");
  std::vector<std::string> argv{
      node_binary(), main,
      "--tableHost", "127.0.0.1",
      "--tablePort", std::to_string(port_),  // 0 the first time: the OS picks
      "--disableTelemetry",
      "--silent",
  };
  if (dir_.empty())
    argv.push_back("--inMemoryPersistence");
  else
    argv.insert(argv.end(), {"--location", dir_});
  if (!options_.cert_path.empty())
    argv.insert(argv.end(), {"--cert", options_.cert_path, "--key", options_.key_path});
  proc_ = std::make_unique<Process>(std::move(argv));
  wait_ready();
}

void AzuriteServer::wait_ready() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    if (!proc_->running())
      throw std::runtime_error("azurite harness: azurite exited while starting; stdout:\n" +
                               proc_->drain_stdout() + "\nstderr:\n" + proc_->stderr_text());
    std::uint16_t port = listening_port(proc_->pid());
    if (port != 0 && !options_.cert_path.empty()) {  // listening; HTTPS is not probed without trust
      port_ = port;
      return;
    }
    if (port != 0) {
      try {
        http::Client probe("127.0.0.1", port, std::chrono::seconds(5));
        probe.get(std::string("/") + kAccount + "/Tables");  // any answer will do (403 unsigned)
        port_ = port;
        return;
      } catch (const std::exception&) {
        // Listening but not answering yet.
      }
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("azurite harness: not ready in time; stderr:\n" +
                               proc_->stderr_text());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void AzuriteServer::stop() {
  if (!running()) return;
  proc_->stop(SIGINT);  // Azurite's graceful close (saves a persistent store); not SIGTERM
}

bool AzuriteServer::running() { return proc_ && proc_->running(); }

pid_t AzuriteServer::pid() const { return proc_ ? proc_->pid() : -1; }

std::string AzuriteServer::connection_string(const std::string& table) const {
  std::string scheme = options_.cert_path.empty() ? "http" : "https";
  return "DefaultEndpointsProtocol=" + scheme + ";AccountName=" + kAccount +
         ";AccountKey=" + kKey + ";TableEndpoint=" + scheme + "://127.0.0.1:" +
         std::to_string(port_) + "/" + kAccount + ";TableName=" + table;
}

std::string AzuriteServer::connection_string_with_wrong_key() const {
  return std::string("DefaultEndpointsProtocol=http;AccountName=") + kAccount +
         ";AccountKey=d3Jvbmcta2V5LXdyb25nLWtleQ==;TableEndpoint=http://127.0.0.1:" +
         std::to_string(port_) + "/" + kAccount;
}

}  // namespace tether::test
