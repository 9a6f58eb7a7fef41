#pragma once
// The Azure Table Storage HubStore (seed 000: "an SQL database or Azure
// Tables"), spoken over the Table service's REST API with SharedKey-signed
// requests (store/azure_shared_key.hpp) on one keep-alive HTTPS connection.
//
// The record of mesh NAME is one entity of the table (default "tetherhub",
// created when missing): PartitionKey "hub", RowKey NAME (or "~" + hex of
// NAME when it holds characters other than letters, digits, '.', '_', '-'),
// properties Epoch (Edm.Int64), Cookie, HubId. updated_ms is the entity's
// Timestamp: the service's clock, one for every host of the mesh.
//
// compare_and_set from epoch 0 is an Insert Entity, which the service
// refuses with 409 when the entity exists; from epoch e > 0 it reads the
// entity and, if its Epoch is e, replaces it with If-Match: <the ETag read>,
// which the service refuses with 412 when anyone wrote in between. So exactly
// one of any number of concurrent callers wins per epoch. A request that
// fails on a reused idle connection is sent once more on a new one; a CAS
// whose first attempt may have landed is then settled by reading the record
// back (a 409/412 against our own write counts as won).
//
// All calls are blocking and serialised by a mutex; each has a 5 s deadline.
#include <memory>
#include <string>

#include "tether/store/hub_store.hpp"

namespace tether::store {

// Opens the store of `connection_string` (store/azure_table_account.hpp) and
// creates its table when missing. Throws std::invalid_argument for a
// malformed connection string (naming the key), StoreError ("azuretable
// <endpoint>: ...") when the service cannot be reached or refuses (for
// example 403 AuthenticationFailed for a wrong key).
std::unique_ptr<HubStore> open_azure_table_hub_store(const std::string& connection_string);

}  // namespace tether::store
