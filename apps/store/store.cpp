// The `store` app: a small MusicStore, the app of seeds 002/003.
//   GET  /, /Store                     genres
//   GET  /Store/Browse?Genre=Rock      the genre's albums, each a link to its details
//   GET  /Store/Details/{id}           one album, with an "Add to cart" form
//   POST /ShoppingCart/AddToCart/{id}  adds it, then 303 to /ShoppingCart
//   GET  /ShoppingCart                 the cart's lines and total (id="cart-total")
//   GET  /healthz                      "ok" (the plan's health check)
// Catalog and cart lines live in the shared database (app_store_db.hpp); the
// cart id lives in the session under "CartId", exactly MusicStore's design.
// So with in-memory sessions and no affinity, a request landing on another
// instance finds no session there, starts a new cart, and the user's albums
// scatter over several carts: the seed's failing JMeter run.
#include <cctype>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "registry.hpp"
#include "store/store_db.hpp"
#include "tether/app.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"
#include "tether/plan/plan_config.hpp"
#include "tether/session/session.hpp"

namespace tether::apps {

using namespace tether::host;

namespace {

constexpr const char* kCartKey = "CartId";

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A whole page: title, a header with the cart link and the serving instance.
std::string page(const Context& c, std::string_view title, const std::string& body) {
  return "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) +
         " - tether store</title></head>\n<body>\n<p><a href=\"/\">Home</a> | <a "
         "href=\"/ShoppingCart\">Cart</a> | instance <code>" +
         escape(c.instance.id.substr(0, 12)) + "</code></p>\n<h1>" + escape(title) + "</h1>\n" +
         body + "</body></html>\n";
}

std::optional<std::int64_t> album_id(const Context& c) {
  auto it = c.params.find("id");
  if (it == c.params.end() || it->second.empty() || it->second.size() > 12) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : it->second) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return v;
}

void home(StoreDb& db, Context& c) {
  std::string body = "<ul>\n";
  for (const auto& g : db.genres())
    body +=
        "<li><a href=\"/Store/Browse?Genre=" + url_encode(g) + "\">" + escape(g) + "</a></li>\n";
  c.reply(200, page(c, "Genres", body + "</ul>\n"), "text/html; charset=utf-8");
}

void browse(StoreDb& db, Context& c) {
  auto genre = c.query("Genre");
  auto albums = db.albums(genre);
  if (albums.empty()) {
    c.reply(404, page(c, "No such genre", "<p>There is no genre " + escape(genre) + ".</p>\n"),
            "text/html; charset=utf-8");
    return;
  }
  std::string body = "<ul class=\"albums\">\n";
  for (const auto& a : albums)
    body += "<li><a href=\"/Store/Details/" + std::to_string(a.id) + "\">" + escape(a.title) +
            "</a> by " + escape(a.artist) + "</li>\n";
  c.reply(200, page(c, genre + " albums", body + "</ul>\n"), "text/html; charset=utf-8");
}

void details(StoreDb& db, Context& c) {
  auto id = album_id(c);
  auto album = id ? db.album(*id) : std::nullopt;
  if (!album) {
    c.reply(404, page(c, "No such album", ""), "text/html; charset=utf-8");
    return;
  }
  std::string body = "<p>Artist: " + escape(album->artist) + "<br>Genre: " + escape(album->genre) +
                     "<br>Price: <span id=\"price\">" + format_price(album->price_cents) +
                     "</span></p>\n<form method=\"post\" action=\"/ShoppingCart/AddToCart/" +
                     std::to_string(album->id) +
                     "\"><button type=\"submit\">Add to cart</button></form>\n";
  c.reply(200, page(c, album->title, body), "text/html; charset=utf-8");
}

// MusicStore's ShoppingCart.GetCartId: the id in the session, or a new one
// stored there.
std::string cart_id(Context& c) {
  auto& session = c.session();
  if (auto id = session.get(kCartKey)) return *id;
  auto id = net::random_guid();
  session.set(kCartKey, id);
  return id;
}

void add_to_cart(StoreDb& db, Context& c) {
  auto id = album_id(c);
  if (!id || !db.album(*id)) {
    c.reply(404, "404 no such album\n");
    return;
  }
  db.add_to_cart(cart_id(c), *id);
  c.redirect("/ShoppingCart");
}

void cart(StoreDb& db, Context& c) {
  auto id = c.session().get(kCartKey);
  std::vector<CartLine> lines;
  if (id) lines = db.cart(*id);
  std::int64_t total = 0, items = 0;
  std::string body;
  if (lines.empty()) {
    body = "<p>Your cart is empty.</p>\n";
  } else {
    body = "<table>\n<tr><th>Album</th><th>Price</th><th>Quantity</th></tr>\n";
    for (const auto& l : lines) {
      body += "<tr><td><a href=\"/Store/Details/" + std::to_string(l.album.id) + "\">" +
              escape(l.album.title) + "</a></td><td>" + format_price(l.album.price_cents) +
              "</td><td>" + std::to_string(l.count) + "</td></tr>\n";
      total += l.album.price_cents * l.count;
      items += l.count;
    }
    body += "</table>\n";
  }
  body += "<p>Items: <span id=\"cart-items\">" + std::to_string(items) +
          "</span><br>Total: <strong id=\"cart-total\">" + format_price(total) + "</strong></p>\n";
  if (id) body += "<p>Cart <code>" + escape(*id) + "</code></p>\n";
  c.reply(200, page(c, "Shopping cart", body), "text/html; charset=utf-8");
}

std::string default_db_url() {
  auto dir = plan::resolve_state_dir("");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // a failure shows when SQLite opens the file
  return "sqlite:" + dir + "/store.db";
}

}  // namespace

void install_store(AppSetup& s) {
  auto url = s.config.store_db.empty() ? default_db_url() : s.config.store_db;
  std::shared_ptr<StoreDb> db;
  try {
    db = open_store_db(url);
  } catch (const std::invalid_argument& e) {
    throw net::ConfigError(std::string("serve.store_db: ") + e.what() + " (got \"" + url + "\")");
  }
  net::logger("store")->info("store app: catalog and carts in {}", db->describe());
  auto& r = s.router;
  r.get("/healthz", [](Context& c) { c.reply(200, "ok\n"); });
  r.get("/", [db](Context& c) { home(*db, c); });
  r.get("/Store", [db](Context& c) { home(*db, c); });
  r.get("/Store/Browse", [db](Context& c) { browse(*db, c); });
  r.get("/Store/Details/{id}", [db](Context& c) { details(*db, c); });
  r.post("/ShoppingCart/AddToCart/{id}", [db](Context& c) { add_to_cart(*db, c); });
  r.get("/ShoppingCart", [db](Context& c) { cart(*db, c); });
}

}  // namespace tether::apps
