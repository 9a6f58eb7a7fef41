// The HubStore contract against the in-memory and SQLite backends (no
// servers): empty reads, compare_and_set from 0 and from a stale epoch, the
// precondition, outages, one winner among racing threads and racing SQLite
// connections, and open_hub_store's URL forms.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tether/store/hub_store.hpp"
#include "tether/store/hub_store_memory.hpp"
#include "tether/store/hub_store_sqlite.hpp"

namespace tether::store {
namespace {

using ::testing::HasSubstr;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tether-hub-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

HubRecord record(std::int64_t epoch, const std::string& hub_id) {
  return HubRecord{epoch, "ARRAffinity=" + hub_id + "; ARRAffinitySameSite=" + hub_id, hub_id, 0};
}

// Each backend runs the same contract tests.
struct Backend {
  std::string name;
  std::function<std::unique_ptr<HubStore>(const TempDir&)> open;
};

// gtest names the parameter in test output by this, not by its bytes.
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class HubStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<HubStore> open() { return GetParam().open(dir_); }
  TempDir dir_;
};

TEST_P(HubStoreContract, ReadOfUnknownMeshIsEmpty) {
  auto store = open();
  EXPECT_EQ(store->read("mesh"), std::nullopt);
}

TEST_P(HubStoreContract, CompareAndSetFromZeroCreatesTheRecord) {
  auto store = open();
  auto before = std::chrono::system_clock::now();
  ASSERT_TRUE(store->compare_and_set("mesh", 0, record(1, "a")));
  auto got = store->read("mesh");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->epoch, 1);
  EXPECT_EQ(got->hub_id, "a");
  EXPECT_EQ(got->cookie, "ARRAffinity=a; ARRAffinitySameSite=a");
  auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       before.time_since_epoch())
                       .count();
  EXPECT_GE(got->updated_ms, before_ms);
  // Meshes are independent.
  EXPECT_EQ(store->read("other"), std::nullopt);
}

TEST_P(HubStoreContract, EpochAdvancesByOne) {
  auto store = open();
  ASSERT_TRUE(store->compare_and_set("mesh", 0, record(1, "a")));
  ASSERT_TRUE(store->compare_and_set("mesh", 1, record(2, "b")));
  ASSERT_TRUE(store->compare_and_set("mesh", 2, record(3, "c")));
  EXPECT_EQ(store->read("mesh")->epoch, 3);
  EXPECT_EQ(store->read("mesh")->hub_id, "c");
}

TEST_P(HubStoreContract, StaleEpochLosesAndChangesNothing) {
  auto store = open();
  ASSERT_TRUE(store->compare_and_set("mesh", 0, record(1, "a")));
  ASSERT_TRUE(store->compare_and_set("mesh", 1, record(2, "b")));
  EXPECT_FALSE(store->compare_and_set("mesh", 0, record(1, "x")));  // record exists
  EXPECT_FALSE(store->compare_and_set("mesh", 1, record(2, "x")));  // epoch moved on
  EXPECT_FALSE(store->compare_and_set("mesh", 5, record(6, "x")));  // from the future
  auto got = store->read("mesh");
  EXPECT_EQ(got->epoch, 2);
  EXPECT_EQ(got->hub_id, "b");
}

TEST_P(HubStoreContract, PreconditionViolationThrows) {
  auto store = open();
  EXPECT_THROW(store->compare_and_set("mesh", 0, record(2, "a")), std::invalid_argument);
  EXPECT_THROW(store->compare_and_set("mesh", 3, record(3, "a")), std::invalid_argument);
  EXPECT_THROW(store->compare_and_set("mesh", -1, record(0, "a")), std::invalid_argument);
  EXPECT_EQ(store->read("mesh"), std::nullopt);
}

TEST_P(HubStoreContract, RacingThreadsFromTheSameEpochHaveOneWinner) {
  // Scenario: 8 threads share one store and race compare_and_set from the
  // same epoch, 50 times over; each time exactly one wins and the stored
  // record is the winner's.
  auto store = open();
  constexpr int kThreads = 8, kEpochs = 50;
  for (std::int64_t epoch = 0; epoch < kEpochs; ++epoch) {
    std::atomic<int> wins{0};
    std::atomic<int> winner{-1};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        if (store->compare_and_set("mesh", epoch, record(epoch + 1, std::to_string(t)))) {
          ++wins;
          winner = t;
        }
      });
    for (auto& th : threads) th.join();
    ASSERT_EQ(wins, 1) << "epoch " << epoch;
    auto got = store->read("mesh");
    ASSERT_EQ(got->epoch, epoch + 1);
    ASSERT_EQ(got->hub_id, std::to_string(winner.load()));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Backends, HubStoreContract,
    ::testing::Values(
        Backend{"memory", [](const TempDir&) { return open_hub_store("memory:"); }},
        Backend{"sqlite",
                [](const TempDir& d) { return open_hub_store("sqlite://" + d.file("hub.db")); }}),
    [](const auto& info) { return info.param.name; });

TEST(MemoryHubStore, OutageThrowsStoreErrorAndChangesNothing) {
  MemoryHubStore store;
  ASSERT_TRUE(store.compare_and_set("mesh", 0, record(1, "a")));
  store.set_available(false);
  EXPECT_THROW(store.read("mesh"), StoreError);
  EXPECT_THROW(store.compare_and_set("mesh", 1, record(2, "b")), StoreError);
  store.set_available(true);
  EXPECT_EQ(store.read("mesh")->epoch, 1);
}

TEST(SqliteHubStore, TwoConnectionsOnOneFileHaveOneWinnerPerEpoch) {
  // Scenario: two store objects (two SQLite connections, as two processes of
  // a plan would have) on one file, each driven by two threads, race
  // compare_and_set from the same epoch for 200 epochs: one winner each time.
  TempDir dir;
  auto path = dir.file("shared.db");
  auto a = open_sqlite_hub_store(path);
  auto b = open_sqlite_hub_store(path);
  HubStore* stores[] = {a.get(), b.get(), a.get(), b.get()};
  for (std::int64_t epoch = 0; epoch < 200; ++epoch) {
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        if (stores[t]->compare_and_set("mesh", epoch, record(epoch + 1, std::to_string(t))))
          ++wins;
      });
    for (auto& th : threads) th.join();
    ASSERT_EQ(wins, 1) << "epoch " << epoch;
    ASSERT_EQ(b->read("mesh")->epoch, epoch + 1);
  }
}

TEST(SqliteHubStore, TwoProcessesOnOneFileHaveOneWinnerPerEpoch) {
  // Scenario: two forked processes each try every epoch 0..149 in order on
  // one file. Each epoch is won exactly once, so the wins (the children's
  // exit codes) add up to 150 and the record ends at epoch 150.
  TempDir dir;
  auto path = dir.file("processes.db");
  open_sqlite_hub_store(path);  // create the file and table up front
  constexpr int kEpochs = 150;
  std::vector<pid_t> children;
  for (int c = 0; c < 2; ++c) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int wins = 0;
      try {
        auto store = open_sqlite_hub_store(path);
        for (std::int64_t epoch = 0; epoch < kEpochs; ++epoch)
          if (store->compare_and_set("mesh", epoch, record(epoch + 1, std::to_string(c))))
            ++wins;
      } catch (...) {
        ::_exit(255);
      }
      ::_exit(wins);
    }
    children.push_back(pid);
  }
  int total = 0;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 255) << "a child got a StoreError";
    total += WEXITSTATUS(status);
  }
  EXPECT_EQ(total, kEpochs);
  EXPECT_EQ(open_sqlite_hub_store(path)->read("mesh")->epoch, kEpochs);
}

TEST(SqliteHubStore, RecordsSurviveReopening) {
  TempDir dir;
  auto path = dir.file("hub.db");
  ASSERT_TRUE(open_sqlite_hub_store(path)->compare_and_set("mesh", 0, record(1, "a")));
  auto again = open_hub_store(path);
  EXPECT_EQ(again->read("mesh")->hub_id, "a");
}

TEST(SqliteHubStore, MissingDirectoryIsAStoreErrorNamingThePath) {
  TempDir dir;
  auto path = dir.file("no/such/dir/hub.db");
  try {
    open_hub_store("sqlite:" + path);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sqlite: " + path));
  }
}

TEST(SqliteHubStore, NotADatabaseIsAStoreError) {
  TempDir dir;
  auto path = dir.file("garbage.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("this is not an SQLite database, just text long enough to have a header", f);
    std::fclose(f);
  }
  EXPECT_THROW(open_hub_store(path), StoreError);
}

TEST(OpenHubStore, UrlForms) {
  TempDir dir;
  auto abs = dir.file("abs.db");
  EXPECT_EQ(open_hub_store("sqlite://" + abs)->describe(), "sqlite:" + abs);
  EXPECT_EQ(open_hub_store("sqlite:" + abs)->describe(), "sqlite:" + abs);
  EXPECT_EQ(open_hub_store(abs)->describe(), "sqlite:" + abs);
  EXPECT_EQ(open_hub_store("memory:")->describe(), "memory:");

  // A relative path is relative to the working directory.
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.file(""));
  EXPECT_EQ(open_hub_store("sqlite:rel.db")->describe(), "sqlite:rel.db");
  EXPECT_EQ(open_hub_store("plain.db")->describe(), "sqlite:plain.db");
  std::filesystem::current_path(cwd);
  EXPECT_TRUE(std::filesystem::exists(dir.file("rel.db")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("plain.db")));
}

TEST(OpenHubStore, UnknownSchemeNamesTheUrl) {
  for (std::string url : {"mongodb://localhost:27017/0", "hub.json", "", "sqlite://host/x.db",
                          "sqlite:", "memory:x"}) {
    try {
      open_hub_store(url);
      FAIL() << "expected invalid_argument for '" << url << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("'" + url + "'"));
    }
  }
}

TEST(OpenHubStore, PostgresFormsGoToLibpq) {
  // Nothing listens on this socket directory: the URL is recognised as
  // PostgreSQL (not an unknown scheme) and fails to connect with a StoreError.
  TempDir dir;
  for (std::string url : {"host=" + dir.file("") + " dbname=x connect_timeout=1",
                          "postgresql:///x?host=" + dir.file(""),
                          "postgres:///x?host=" + dir.file("")}) {
    try {
      open_hub_store(url);
      FAIL() << "expected StoreError for '" << url << "'";
    } catch (const StoreError& e) {
      EXPECT_THAT(e.what(), HasSubstr("postgres: "));
    }
  }
}

}  // namespace
}  // namespace tether::store
