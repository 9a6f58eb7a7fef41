#pragma once
// Checks every HubStore backend's test runs the same way: racing writers
// (one winner per epoch) and calls while the backend is stopped.
#include <memory>
#include <string>
#include <vector>

#include "tether/store/hub_store.hpp"

namespace tether::test {

// The compare_and_set contract on the record "contract" (which must not
// exist yet): an unknown record reads empty, CAS from 0 creates, epochs
// advance by one, stale and future epochs lose, a broken precondition is
// invalid_argument, the record carries what was written with updated_ms
// from a clock within a minute of ours (the store's, same host), and `other`
// (another connection) reads the same record. Wrap in ASSERT_NO_FATAL_FAILURE.
void expect_cas_contract(store::HubStore& store, store::HubStore& other);

// Each of `stores` (one connection each) on its own thread races
// compare_and_set on `name` from the same epoch, for epochs 0 .. epochs-1.
// Records gtest failures unless exactly one wins each time and the stored
// record is then the winner's. Wrap in ASSERT_NO_FATAL_FAILURE.
void expect_one_winner_per_epoch(const std::vector<std::unique_ptr<store::HubStore>>& stores,
                                 const std::string& name, int epochs);

// With the backend stopped: three reads of `name` in a row and a CAS on it
// throw StoreError naming `mentions` (never hang: each store has a
// deadline, and ctest's timeout turns a hang into a failure), and opening
// `url` afresh throws StoreError too.
void expect_store_errors_while_stopped(store::HubStore& store, const std::string& url,
                                       const std::string& name, const std::string& mentions);

}  // namespace tether::test
