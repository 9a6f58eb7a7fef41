#pragma once
// The `store` app's database (a small MusicStore): the album catalog and the
// cart lines, keyed by a cart id that the app keeps in the user's session
// exactly as MusicStore does. SQLite (one file shared by the instances of a
// machine) or PostgreSQL. Tables are created and the catalog seeded on first
// use, idempotently, so instances may start together.
//
// Every call is blocking (run inline on the instance's I/O thread, bounded by
// SQLite's busy timeout or libpq's connect/statement timeouts) and throws
// store::StoreError when the database cannot be used; the instance host
// answers 503 then.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tether::apps {

struct Album {
  std::int64_t id = 0;
  std::string genre;
  std::string title;
  std::string artist;
  std::int64_t price_cents = 0;
};

struct CartLine {
  Album album;
  std::int64_t count = 0;
};

class StoreDb {
 public:
  virtual ~StoreDb() = default;
  // Genres in catalog order.
  virtual std::vector<std::string> genres() = 0;
  // Albums of `genre` by id (empty for an unknown genre).
  virtual std::vector<Album> albums(const std::string& genre) = 0;
  virtual std::optional<Album> album(std::int64_t id) = 0;
  // Adds one of `album_id` to the cart (count + 1 when already there).
  // Precondition: the album exists.
  virtual void add_to_cart(const std::string& cart_id, std::int64_t album_id) = 0;
  // The cart's lines in the order they were first added.
  virtual std::vector<CartLine> cart(const std::string& cart_id) = 0;
  // "sqlite /path/store.db" or "postgres host=... dbname=..." for logs.
  virtual std::string describe() const = 0;
};

// Opens "sqlite:PATH" (sqlite:///abs too) or "postgres://..." / "postgresql://...".
// Throws std::invalid_argument for another form, store::StoreError when the
// SQLite file cannot be opened.
std::unique_ptr<StoreDb> open_store_db(const std::string& url);

// The catalog every database is seeded with (ids 1..n; Rock has 12 albums at $8.99).
const std::vector<Album>& store_catalog();

// 899 -> "$8.99".
std::string format_price(std::int64_t cents);

}  // namespace tether::apps
