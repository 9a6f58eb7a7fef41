// status_for_read_error: the one mapping from request-read failures to statuses.
#include "tether/http/parse_errors.hpp"

#include <string>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>

namespace tether::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::system::error_code;

TEST(StatusForReadError, HeaderLimitIs431) {
  EXPECT_EQ(status_for_read_error(bhttp::error::header_limit, true), 431);
}

TEST(StatusForReadError, BodyLimitIs413) {
  EXPECT_EQ(status_for_read_error(bhttp::error::body_limit, true), 413);
}

TEST(StatusForReadError, TimeoutDependsOnBytesReceived) {
  EXPECT_EQ(status_for_read_error(boost::beast::error::timeout, true), 408);
  EXPECT_EQ(status_for_read_error(boost::beast::error::timeout, false), 0);
}

TEST(StatusForReadError, ClientGoneIsSilent) {
  EXPECT_EQ(status_for_read_error(bhttp::error::end_of_stream, false), 0);
  EXPECT_EQ(status_for_read_error(bhttp::error::end_of_stream, true), 0);
  EXPECT_EQ(status_for_read_error(boost::asio::error::eof, true), 0);
  EXPECT_EQ(status_for_read_error(boost::asio::error::connection_reset, true), 0);
  EXPECT_EQ(status_for_read_error(boost::asio::error::operation_aborted, true), 0);
}

TEST(StatusForReadError, MalformedIs400) {
  EXPECT_EQ(status_for_read_error(bhttp::error::bad_method, true), 400);
  EXPECT_EQ(status_for_read_error(bhttp::error::bad_version, true), 400);
  EXPECT_EQ(status_for_read_error(bhttp::error::bad_target, true), 400);
  EXPECT_EQ(status_for_read_error(bhttp::error::bad_field, true), 400);
  EXPECT_EQ(status_for_read_error(bhttp::error::bad_content_length, true), 400);
}

TEST(ShortReason, KnownStatuses) {
  EXPECT_EQ(std::string(short_reason(400)), "Bad Request");
  EXPECT_EQ(std::string(short_reason(408)), "Request Timeout");
  EXPECT_EQ(std::string(short_reason(413)), "Payload Too Large");
  EXPECT_EQ(std::string(short_reason(431)), "Request Header Fields Too Large");
  EXPECT_EQ(std::string(short_reason(502)), "Bad Gateway");
  EXPECT_EQ(std::string(short_reason(503)), "Service Unavailable");
  EXPECT_EQ(std::string(short_reason(504)), "Gateway Timeout");
}

}  // namespace
}  // namespace tether::http
