#pragma once
// Where an Azure Table Storage table lives and the key that signs requests
// to it, read from an Azure Storage connection string -- the string the
// Azure portal shows under "Access keys", so users paste it as it is:
//
//   DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=<base64>;EndpointSuffix=core.windows.net
//   DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=<base64>;
//       TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;     (Azurite, path-style)
//   UseDevelopmentStorage=true                                      (Azurite's defaults)
//
// plus one key of tether's own, TableName=<name> (default "tetherhub"). Keys
// are case-insensitive; BlobEndpoint, QueueEndpoint, FileEndpoint and
// EndpointSuffix-only strings are accepted and the non-table parts ignored.
#include <cstdint>
#include <string>

namespace tether::store {

struct AzureTableAccount {
  std::string account;      // AccountName: the SharedKey signer
  std::string key;          // AccountKey, base64-decoded (raw HMAC key bytes)
  bool https = true;        // the scheme of the table endpoint
  std::string host;         // "acct.table.core.windows.net", "127.0.0.1"
  std::uint16_t port = 443; // 443 / 80 unless the endpoint names one
  std::string path_prefix;  // "" for Azure; "/devstoreaccount1" for a path-style endpoint
  std::string table = "tetherhub";

  // "azuretable: https://acct.table.core.windows.net/tetherhub" -- never the key.
  std::string describe() const;
};

// Parses a connection string (above). Throws std::invalid_argument naming
// the offending key and value (never the AccountKey's value): a missing
// AccountName/AccountKey, an AccountKey that is not base64, a SharedAccessSignature
// (not supported: tether signs with the account key), an unknown
// DefaultEndpointsProtocol, a TableEndpoint that is not an http(s) URL, or a
// TableName that Azure would refuse (3-63 letters and digits, first a letter).
AzureTableAccount parse_azure_table_account(const std::string& connection_string);

}  // namespace tether::store
