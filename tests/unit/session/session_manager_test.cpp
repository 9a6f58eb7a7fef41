// RequestSession over an in-memory store on a fake clock: the cookie, lazy
// loading, saving only what changed, idle expiry, and store failures that
// surface as StoreError at every step (never as a silently empty session).
#include "tether/session/session_manager.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tether/http/cookies.hpp"
#include "tether/session/session_store_memory.hpp"

namespace tether::session {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
};

// Counts calls and throws StoreError on call number `fail_at` (1-based; 0 = never).
class FlakyStore final : public SessionStore {
 public:
  explicit FlakyStore(std::shared_ptr<SessionStore> inner) : inner_(std::move(inner)) {}
  int calls = 0;
  int fail_at = 0;
  std::optional<std::string> load(const std::string& id) override {
    step();
    return inner_->load(id);
  }
  void save(const std::string& id, const std::string& d, Millis idle) override {
    step();
    inner_->save(id, d, idle);
  }
  void touch(const std::string& id, Millis idle) override {
    step();
    inner_->touch(id, idle);
  }
  void remove(const std::string& id) override {
    step();
    inner_->remove(id);
  }
  std::string describe() const override { return "flaky"; }

 private:
  void step() {
    if (++calls == fail_at) throw StoreError("flaky: call " + std::to_string(calls) + " fails");
  }
  std::shared_ptr<SessionStore> inner_;
};

class RequestSessionTest : public ::testing::Test {
 protected:
  RequestSessionTest()
      : memory_(std::make_shared<MemorySessionStore>([this] { return clock_.now; })),
        manager_(SessionConfig{}, memory_) {}

  // One request carrying `cookie` (may be empty); `use` runs with its
  // session; returns the response after commit.
  template <class F>
  http::Response request(const std::string& cookie, F use, SessionManager* m = nullptr) {
    http::Request req{boost::beast::http::verb::get, "/", 11};
    if (!cookie.empty()) req.set(boost::beast::http::field::cookie, cookie);
    http::Response res;
    RequestSession rs(m ? *m : manager_, req);
    use(rs);
    rs.commit(res);
    return res;
  }

  static std::string cookie_of(const http::Response& res) {
    auto it = res.find(boost::beast::http::field::set_cookie);
    return it == res.end() ? std::string() : std::string(it->value());
  }

  FakeClock clock_;
  std::shared_ptr<MemorySessionStore> memory_;
  SessionManager manager_;
};

TEST_F(RequestSessionTest, UntouchedSessionCostsNothing) {
  auto res = request("", [](RequestSession&) {});
  EXPECT_EQ(cookie_of(res), "");
  EXPECT_EQ(memory_->size(), 0u);
}

TEST_F(RequestSessionTest, NewEmptySessionIsNotSaved) {
  auto res = request("", [](RequestSession& rs) { EXPECT_FALSE(rs.get().get("x")); });
  EXPECT_EQ(cookie_of(res), "");
  EXPECT_EQ(memory_->size(), 0u);
}

TEST_F(RequestSessionTest, NewSessionGetsAnHttpOnlyLaxCookie) {
  std::string id;
  auto res = request("", [&](RequestSession& rs) {
    rs.get().set("CartId", "c1");
    id = rs.get().id();
  });
  EXPECT_EQ(cookie_of(res), "TetherSession=" + id + ";Path=/;HttpOnly;SameSite=Lax");
  EXPECT_TRUE(is_session_id(id));
  EXPECT_EQ(manager_.stats().created.load(), 1u);
}

TEST_F(RequestSessionTest, CookieIsSecureBehindHttps) {
  http::Request req{boost::beast::http::verb::get, "/", 11};
  req.set("X-Forwarded-Proto", "https");
  http::Response res;
  RequestSession rs(manager_, req);
  rs.get().set("k", "v");
  rs.commit(res);
  EXPECT_THAT(cookie_of(res), HasSubstr(";HttpOnly;SameSite=Lax;Secure"));
}

TEST_F(RequestSessionTest, CookieFindsTheSessionAgain) {
  std::string id;
  request("", [&](RequestSession& rs) {
    rs.get().set("CartId", "c1");
    id = rs.get().id();
  });
  auto res = request("other=1; TetherSession=" + id, [&](RequestSession& rs) {
    EXPECT_FALSE(rs.get().is_new());
    EXPECT_EQ(rs.get().get("CartId"), "c1");
  });
  EXPECT_EQ(cookie_of(res), "") << "a known session is not re-issued";
}

TEST_F(RequestSessionTest, UnknownIdIsNeverReused) {
  const std::string forged = "0123456789abcdef0123456789abcdef";
  auto res = request("TetherSession=" + forged, [&](RequestSession& rs) {
    EXPECT_TRUE(rs.get().is_new());
    EXPECT_NE(rs.get().id(), forged);
    rs.get().set("k", "v");
  });
  EXPECT_THAT(cookie_of(res), ::testing::Not(HasSubstr(forged)));
  EXPECT_FALSE(memory_->load(forged));
}

TEST_F(RequestSessionTest, IdleTimeoutExpiresAndUseExtends) {
  std::string id;
  request("", [&](RequestSession& rs) {
    rs.get().set("k", "v");
    id = rs.get().id();
  });
  const auto cookie = "TetherSession=" + id;
  clock_.now += 19min;
  request(cookie, [](RequestSession& rs) { EXPECT_EQ(rs.get().get("k"), "v"); });  // touched
  clock_.now += 19min;
  request(cookie, [](RequestSession& rs) { EXPECT_EQ(rs.get().get("k"), "v"); });
  clock_.now += 20min;
  request(cookie, [](RequestSession& rs) { EXPECT_TRUE(rs.get().is_new()); });
}

TEST_F(RequestSessionTest, ChangedValuesAreSavedUnchangedAreNot) {
  std::string id;
  request("", [&](RequestSession& rs) {
    rs.get().set("n", "1");
    id = rs.get().id();
  });
  request("TetherSession=" + id, [](RequestSession& rs) { rs.get().set("n", "2"); });
  EXPECT_EQ(manager_.stats().saved.load(), 1u);
  request("TetherSession=" + id, [](RequestSession& rs) { rs.get().set("n", "2"); });
  EXPECT_EQ(manager_.stats().saved.load(), 1u);
  request("TetherSession=" + id, [](RequestSession& rs) { EXPECT_EQ(rs.get().get("n"), "2"); });
}

TEST_F(RequestSessionTest, ClearedSessionIsRemoved) {
  std::string id;
  request("", [&](RequestSession& rs) {
    rs.get().set("n", "1");
    id = rs.get().id();
  });
  request("TetherSession=" + id, [](RequestSession& rs) { rs.get().clear(); });
  EXPECT_FALSE(memory_->load(id));
}

TEST_F(RequestSessionTest, CorruptStoredDataStartsANewSession) {
  memory_->save("0123456789abcdef0123456789abcdef", "not json", 20min);
  request("TetherSession=0123456789abcdef0123456789abcdef",
          [](RequestSession& rs) { EXPECT_TRUE(rs.get().is_new()); });
}

// Tier 2: the store fails at the n-th call of a two-request flow (create,
// then load + change + save), for every n until the flow completes. Each
// failure must surface as StoreError; the flow never "succeeds" with lost data.
TEST_F(RequestSessionTest, EveryStoreFailureSurfaces) {
  for (int n = 1;; ++n) {
    auto flaky = std::make_shared<FlakyStore>(memory_);
    flaky->fail_at = n;
    SessionManager m(SessionConfig{}, flaky);
    std::string id;
    bool failed = false;
    try {
      request("", [&](RequestSession& rs) {
        rs.get().set("CartId", "c" + std::to_string(n));
        id = rs.get().id();
      }, &m);
      request("TetherSession=" + id, [&](RequestSession& rs) {
        EXPECT_EQ(rs.get().get("CartId"), "c" + std::to_string(n));
        rs.get().set("n", "2");
      }, &m);
    } catch (const StoreError& e) {
      EXPECT_THAT(e.what(), HasSubstr("flaky"));
      failed = true;
    }
    if (!failed) {
      EXPECT_EQ(n, 4) << "create=save, then load and save: 3 calls, so n=4 is the first success";
      EXPECT_EQ(Session::parse(*memory_->load(id))->at("n"), "2");
      break;
    }
    ASSERT_LT(n, 10);
  }
}

}  // namespace
}  // namespace tether::session
