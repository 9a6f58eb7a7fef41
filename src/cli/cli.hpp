#pragma once
// The tether command line: parses argv and runs the command; returns the
// process's exit status.
namespace tether::cli {

int run(int argc, char** argv);

}  // namespace tether::cli
