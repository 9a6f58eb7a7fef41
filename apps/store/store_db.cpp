#include "store/store_db.hpp"

#include <chrono>
#include <mutex>
#include <stdexcept>

#include "tether/store/pg_connection.hpp"
#include "tether/store/sqlite_db.hpp"

namespace tether::apps {

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* kAlbumsTable =
    "CREATE TABLE IF NOT EXISTS store_albums ("
    " id BIGINT PRIMARY KEY, genre TEXT NOT NULL, title TEXT NOT NULL,"
    " artist TEXT NOT NULL, price_cents BIGINT NOT NULL)";
constexpr const char* kCartTable =
    "CREATE TABLE IF NOT EXISTS store_cart_lines ("
    " cart_id TEXT NOT NULL, album_id BIGINT NOT NULL, count BIGINT NOT NULL,"
    " created_ms BIGINT NOT NULL, PRIMARY KEY (cart_id, album_id))";

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// One INSERT of the whole catalog; `tail` makes it idempotent.
std::string seed_sql(const char* head, const char* tail) {
  std::string sql = head;
  bool first = true;
  for (const auto& a : store_catalog()) {
    sql += first ? " " : ", ";
    first = false;
    sql += "(" + std::to_string(a.id) + ", " + quoted(a.genre) + ", " + quoted(a.title) + ", " +
           quoted(a.artist) + ", " + std::to_string(a.price_cents) + ")";
  }
  return sql + tail;
}

constexpr const char* kCartSelect =
    "SELECT a.id, a.genre, a.title, a.artist, a.price_cents, c.count"
    " FROM store_cart_lines c JOIN store_albums a ON a.id = c.album_id";
constexpr const char* kAlbumColumns =
    "SELECT id, genre, title, artist, price_cents FROM store_albums";

class SqliteStoreDb final : public StoreDb {
 public:
  explicit SqliteStoreDb(const std::string& path) : db_(path) {}

  std::vector<std::string> genres() override {
    std::lock_guard lock(mutex_);
    ready();
    auto st = db_.prepare("SELECT genre FROM store_albums GROUP BY genre ORDER BY MIN(id)");
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.column_text(0));
    return out;
  }

  std::vector<Album> albums(const std::string& genre) override {
    std::lock_guard lock(mutex_);
    ready();
    auto st = db_.prepare(std::string(kAlbumColumns) + " WHERE genre = ?1 ORDER BY id");
    st.bind(1, genre);
    std::vector<Album> out;
    while (st.step()) out.push_back(row(st, 0));
    return out;
  }

  std::optional<Album> album(std::int64_t id) override {
    std::lock_guard lock(mutex_);
    ready();
    auto st = db_.prepare(std::string(kAlbumColumns) + " WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    auto a = row(st, 0);
    st.reset();
    return a;
  }

  void add_to_cart(const std::string& cart_id, std::int64_t album_id) override {
    std::lock_guard lock(mutex_);
    ready();
    db_.prepare(
           "INSERT INTO store_cart_lines (cart_id, album_id, count, created_ms)"
           " VALUES (?1, ?2, 1, ?3) ON CONFLICT (cart_id, album_id)"
           " DO UPDATE SET count = count + 1")
        .bind(1, cart_id)
        .bind(2, album_id)
        .bind(3, unix_ms())
        .run();
  }

  std::vector<CartLine> cart(const std::string& cart_id) override {
    std::lock_guard lock(mutex_);
    ready();
    auto st =
        db_.prepare(std::string(kCartSelect) + " WHERE c.cart_id = ?1 ORDER BY c.created_ms, a.id");
    st.bind(1, cart_id);
    std::vector<CartLine> out;
    while (st.step()) out.push_back(CartLine{row(st, 0), st.column_int64(5)});
    return out;
  }

  std::string describe() const override { return "sqlite " + db_.path(); }

 private:
  static Album row(store::SqliteStatement& st, int first) {
    return Album{st.column_int64(first), st.column_text(first + 1), st.column_text(first + 2),
                 st.column_text(first + 3), st.column_int64(first + 4)};
  }

  // Creates and seeds once per process; one write transaction, so instances
  // starting together take turns (busy timeout).
  void ready() {
    if (ready_) return;
    try {
      db_.exec(std::string("BEGIN IMMEDIATE; ") + kAlbumsTable + "; " + kCartTable + "; " +
               seed_sql("INSERT OR IGNORE INTO store_albums (id, genre, title, artist, price_cents)"
                        " VALUES",
                        "; COMMIT;"));
    } catch (const store::StoreError&) {
      try {
        db_.exec("ROLLBACK");
      } catch (const store::StoreError&) {  // no transaction was open
      }
      throw;
    }
    ready_ = true;
  }

  std::mutex mutex_;
  store::SqliteDb db_;
  bool ready_ = false;
};

class PostgresStoreDb final : public StoreDb {
 public:
  explicit PostgresStoreDb(const std::string& uri) : pg_(uri) {}

  std::vector<std::string> genres() override {
    std::lock_guard lock(mutex_);
    ready();
    auto r = pg_.exec("SELECT genre FROM store_albums GROUP BY genre ORDER BY MIN(id)");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
  }

  std::vector<Album> albums(const std::string& genre) override {
    std::lock_guard lock(mutex_);
    ready();
    auto r = pg_.exec(std::string(kAlbumColumns) + " WHERE genre = $1 ORDER BY id", {genre});
    std::vector<Album> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(row(r, i));
    return out;
  }

  std::optional<Album> album(std::int64_t id) override {
    std::lock_guard lock(mutex_);
    ready();
    auto r = pg_.exec(std::string(kAlbumColumns) + " WHERE id = $1", {std::to_string(id)});
    if (r.rows() == 0) return std::nullopt;
    return row(r, 0);
  }

  void add_to_cart(const std::string& cart_id, std::int64_t album_id) override {
    std::lock_guard lock(mutex_);
    ready();
    pg_.exec(
        "INSERT INTO store_cart_lines (cart_id, album_id, count, created_ms)"
        " VALUES ($1, $2, 1, $3) ON CONFLICT (cart_id, album_id)"
        " DO UPDATE SET count = store_cart_lines.count + 1",
        {cart_id, std::to_string(album_id), std::to_string(unix_ms())});
  }

  std::vector<CartLine> cart(const std::string& cart_id) override {
    std::lock_guard lock(mutex_);
    ready();
    auto r = pg_.exec(
        std::string(kCartSelect) + " WHERE c.cart_id = $1 ORDER BY c.created_ms, a.id", {cart_id});
    std::vector<CartLine> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(CartLine{row(r, i), r.int64(i, 5)});
    return out;
  }

  std::string describe() const override { return "postgres " + pg_.describe(); }

 private:
  static Album row(const store::PgResult& r, int i) {
    return Album{r.int64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.int64(i, 4)};
  }

  // Creates the tables and seeds the catalog once per process. Instances
  // starting together would race on CREATE TABLE IF NOT EXISTS (PostgreSQL
  // then reports "type ... already exists"), so this runs under a
  // session-level advisory lock; the lock goes with the connection if that
  // breaks.
  void ready() {
    if (ready_) return;
    pg_.exec("SELECT pg_advisory_lock(7465746802)");
    try {
      pg_.exec(kAlbumsTable);
      pg_.exec(kCartTable);
      pg_.exec(seed_sql("INSERT INTO store_albums (id, genre, title, artist, price_cents) VALUES",
                        " ON CONFLICT (id) DO NOTHING"));
    } catch (const store::StoreError&) {
      try {
        pg_.exec("SELECT pg_advisory_unlock(7465746802)");
      } catch (const store::StoreError&) {  // connection gone: so is the lock
      }
      throw;
    }
    pg_.exec("SELECT pg_advisory_unlock(7465746802)");
    ready_ = true;
  }

  std::mutex mutex_;
  store::PgConnection pg_;
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<StoreDb> open_store_db(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    auto path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    if (path.empty()) throw std::invalid_argument("sqlite: needs a file path");
    return std::make_unique<SqliteStoreDb>(path);
  }
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0)
    return std::make_unique<PostgresStoreDb>(url);
  throw std::invalid_argument("expected sqlite:PATH or postgres://...");
}

const std::vector<Album>& store_catalog() {
  static const std::vector<Album> albums = [] {
    struct Row {
      const char* genre;
      const char* title;
      const char* artist;
      std::int64_t cents;
    };
    const Row rows[] = {
        {"Rock", "Led Zeppelin IV", "Led Zeppelin", 899},
        {"Rock", "Physical Graffiti", "Led Zeppelin", 899},
        {"Rock", "Houses of the Holy", "Led Zeppelin", 899},
        {"Rock", "Paranoid", "Black Sabbath", 899},
        {"Rock", "Nevermind", "Nirvana", 899},
        {"Rock", "Ten", "Pearl Jam", 899},
        {"Rock", "Back in Black", "AC/DC", 899},
        {"Rock", "The Wall", "Pink Floyd", 899},
        {"Rock", "Who's Next", "The Who", 899},
        {"Rock", "Machine Head", "Deep Purple", 899},
        {"Rock", "Appetite for Destruction", "Guns N' Roses", 899},
        {"Rock", "Rumours", "Fleetwood Mac", 899},
        {"Jazz", "Kind of Blue", "Miles Davis", 899},
        {"Jazz", "A Love Supreme", "John Coltrane", 999},
        {"Jazz", "Time Out", "The Dave Brubeck Quartet", 899},
        {"Metal", "Master of Puppets", "Metallica", 899},
        {"Metal", "Powerslave", "Iron Maiden", 899},
        {"Alternative", "OK Computer", "Radiohead", 899},
        {"Alternative", "Doolittle", "Pixies", 899},
        {"Blues", "King of the Delta Blues Singers", "Robert Johnson", 799},
        {"Classical", "The Four Seasons", "Antonio Vivaldi", 799},
        {"Pop", "Thriller", "Michael Jackson", 899},
    };
    std::vector<Album> out;
    std::int64_t id = 0;
    for (const auto& r : rows) out.push_back(Album{++id, r.genre, r.title, r.artist, r.cents});
    return out;
  }();
  return albums;
}

std::string format_price(std::int64_t cents) {
  auto c = cents % 100;
  return "$" + std::to_string(cents / 100) + "." + (c < 10 ? "0" : "") + std::to_string(c);
}

}  // namespace tether::apps
