#pragma once
// The one place where a failure to read a client's request becomes a status
// code: 400 malformed, 408 too slow, 413 body too large, 431 headers too large.
#include <boost/system/error_code.hpp>

namespace tether::http {

// Status for a request-read error, or 0 when the connection should just be
// closed without a response (EOF, reset, cancelled).
int status_for_read_error(const boost::system::error_code& ec, bool bytes_received);

// A short reason phrase for the error statuses tether emits.
const char* short_reason(int status);

}  // namespace tether::http
