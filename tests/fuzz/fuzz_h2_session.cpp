// Fuzz target: HTTP/2 frames as a hostile client sends them, after the
// connection preface, into the front door's HTTP/2 session (front/h2_session:
// nghttp2's server session and our callbacks: header limits, cookie crumbs,
// chunk framing of request bodies, control-frame budget). Each complete
// request is turned into its HTTP/1.1 head, which must parse as HTTP/1.1
// (with Beast, as the relay does), and answered at once, from inside the
// callback as the front door may. Output is drained as the writer would.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <spdlog/logger.h>

#include "front/h2_session.hpp"
#include "tether/http/message_encoder.hpp"

namespace bhttp = boost::beast::http;
using namespace tether::front;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FrontConfig cfg;
  static const auto log = std::make_shared<spdlog::logger>("fuzz");  // no sinks: silent
  boost::asio::io_context io;
  FrontStats stats;
  auto session = std::make_shared<h2::Session>(
      io.get_executor(), cfg, stats, log, 1,
      [](std::shared_ptr<h2::Session> s, std::shared_ptr<h2::StreamState> st) {
        if (!st->too_large && st->method != "CONNECT") {
          bhttp::request_parser<bhttp::buffer_body> p;
          p.header_limit(64 * 1024);
          std::string error;
          if (h2::read_request(*st, p, error)) {
            // What was read must render as an HTTP/1.1 head that a strict
            // parser reads back whole, with the same number of fields:
            // nothing in it can split into a second request upstream.
            const std::string head = tether::http::render_head(p.get());
            bhttp::request_parser<bhttp::empty_body> again;
            again.header_limit(128 * 1024);
            boost::beast::error_code ec;
            again.put(boost::asio::buffer(head), ec);
            if (ec || !again.is_header_done()) std::abort();
            if (std::distance(again.get().begin(), again.get().end()) !=
                std::distance(p.get().begin(), p.get().end()))
              std::abort();
          }
        }
        const h2::Session::FieldView fields[] = {{"content-length", "2"}};
        s->submit_response(*st, 200, fields, false);
        st->out = "ok";
        st->out_eof = true;
        s->resume(*st);
      });
  if (!session->start()) return 0;
  static const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  session->receive(preface.data(), preface.size());
  session->receive(reinterpret_cast<const char*>(data), size);
  std::string out;
  session->take_output(out, 1 << 20);
  session->abort_streams();
  io.poll();
  return 0;
}
