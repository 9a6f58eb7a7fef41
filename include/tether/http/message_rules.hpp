#pragma once
// What a parsed HTTP/1.x message means, decided once (RFC 9112 §3, §6, §7;
// RFC 6455 §4): whether it is refused and with which status, how its body is
// framed, which Host and target it is for, and whether it is a WebSocket
// handshake. Every hop that forwards a message (the front door's proxy path,
// the fuzz target) asks these functions and nothing else, so the framing that
// a message is read with is the framing it is written with. Pure: no I/O.
//
// docs/front-door.md "Request rules" lists every rule and its status.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

namespace tether::http {

// Why a message is refused. status_for() is the one mapping to a status.
enum class MessageFault {
  none,
  bad_framing,          // Transfer-Encoding/Content-Length that can be read two ways -> 400
  unsupported_coding,   // a transfer coding other than one final "chunked" -> 501
  bad_host,             // no Host, several, or an invalid one -> 400
  bad_target,           // a request target of no valid form for its method -> 400
  connect_refused,      // CONNECT: a reverse proxy opens no tunnels to anywhere -> 501
  bad_response_framing, // an instance's response framed ambiguously -> 502
};

// 400, 501 or 502 (0 for none).
int status_for(MessageFault f);
// A short phrase for logs and error bodies ("two Transfer-Encoding lines").
const char* describe(MessageFault f);

// How a body is delimited on the wire.
enum class Framing {
  none,         // no body (a request without CL/TE, 1xx/204/304, HEAD responses)
  length,       // exactly `length` bytes
  chunked,      // chunked transfer coding
  until_close,  // a response read until the instance closes
};

// The front door's reading of a request header. Precondition: Beast's
// request parser accepted the header (so version is 1.0 or 1.1, field names
// are tokens and values hold no control bytes).
struct RequestReading {
  MessageFault fault = MessageFault::none;
  std::string detail;        // what exactly was wrong, for the log
  Framing framing = Framing::none;
  std::uint64_t length = 0;  // Framing::length
  bool close_after = false;  // HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1)
  std::string host;          // the authoritative Host (from the target when absolute-form)
  std::string target;        // what to forward: origin-form, or "*" for OPTIONS
  bool websocket = false;    // a valid WebSocket opening handshake (RFC 6455 §4.2.1)
  std::string websocket_key; // its Sec-WebSocket-Key, when websocket
};

// Reads `req`. `parser_chunked` and `parser_length` are what Beast's parser
// decided (parser.chunked(), parser.content_length()); a disagreement with
// the fields is itself a fault. Never throws on any input.
RequestReading read_request(const boost::beast::http::request_header<>& req, bool parser_chunked,
                            boost::optional<std::uint64_t> parser_length);

// The front door's reading of an instance's response header.
struct ResponseReading {
  MessageFault fault = MessageFault::none;
  std::string detail;
  Framing framing = Framing::none;  // of the body as it arrives
  std::uint64_t length = 0;
  // For HEAD and 304 responses: the Content-Length to pass on (it describes
  // the representation, not this message's body), when the instance sent one.
  std::optional<std::uint64_t> advertised_length;
};

// Reads `res`, an answer to a request with method `request_method`. Same
// contract as read_request.
ResponseReading read_response(const boost::beast::http::response_header<>& res,
                              boost::beast::http::verb request_method, bool parser_chunked,
                              boost::optional<std::uint64_t> parser_length);

// Whether `res` is a valid acceptance (101) of a WebSocket handshake whose
// Sec-WebSocket-Key was `key`: Upgrade: websocket, Connection: upgrade and
// the Sec-WebSocket-Accept that RFC 6455 §4.2.2 derives from the key.
bool websocket_accepted(const boost::beast::http::response_header<>& res, std::string_view key);

// RFC 6455's Sec-WebSocket-Accept for `key`: base64(SHA-1(key + GUID)).
std::string websocket_accept(std::string_view key);

// Whether `value` is a valid Host field value: uri-host [ ":" port ]
// (RFC 9110 §7.2), not empty, no userinfo.
bool valid_host(std::string_view value);

}  // namespace tether::http
