#pragma once
// Azure Storage "SharedKey" request signing for the Table service
// (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key):
//
//   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedResource
//   CanonicalizedResource = "/" account path [ "?comp=" value ]
//   Authorization: SharedKey <account>:Base64(HMAC-SHA256(key, StringToSign))
//
// where Date is the x-ms-date header's value and path is the request's
// encoded URI path (for a path-style endpoint such as Azurite's it starts
// with the account again: "/devstoreaccount1/devstoreaccount1/Tables").
#include <chrono>
#include <string>
#include <string_view>

namespace tether::store {

// The canonicalized resource of `target` (path and optional query) for
// `account`: only a "comp" query parameter is kept, as the Table service
// requires.
std::string shared_key_canonical_resource(std::string_view account, std::string_view target);

// The string to sign (above).
std::string shared_key_string_to_sign(std::string_view verb, std::string_view content_md5,
                                      std::string_view content_type, std::string_view date,
                                      std::string_view canonical_resource);

// Base64 of HMAC-SHA256(key, text); `key` is the decoded account key.
std::string shared_key_signature(std::string_view key, std::string_view text);

// An HTTP date (RFC 1123, always GMT): "Sun, 22 Nov 2026 10:00:00 GMT".
std::string http_date(std::chrono::system_clock::time_point t);

}  // namespace tether::store
