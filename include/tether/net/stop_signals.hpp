#pragma once
// How every tether process waits to be stopped: SIGINT, SIGTERM and SIGHUP
// are blocked in all threads and taken with sigwait(), so a stop request
// arriving at any moment (during startup too) is waited for, never a kill.

namespace tether::net {

// Blocks SIGINT, SIGTERM and SIGHUP in this thread and in every thread it
// starts later. Call first, before starting threads.
void block_stop_signals();

// Waits for SIGINT, SIGTERM or SIGHUP (blocked by block_stop_signals());
// returns which.
int wait_for_stop_signal();

}  // namespace tether::net
