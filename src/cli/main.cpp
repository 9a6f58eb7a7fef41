// tether: the front door, the instance host and the local plan in one binary.
#include "cli.hpp"

int main(int argc, char** argv) { return tether::cli::run(argc, argv); }
