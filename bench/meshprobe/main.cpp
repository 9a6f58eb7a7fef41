// tether-meshprobe: the tether command line with one more app, meshprobe,
// for the mesh tests (tests/integration/mesh_*) and bench/mesh. The shipped
// tether binary does not carry it. `tether-meshprobe up --app meshprobe`
// starts its instances from this same binary.
#include "cli.hpp"
#include "meshprobe.hpp"
#include "registry.hpp"

int main(int argc, char** argv) {
  tether::apps::add_builtin_app({"meshprobe",
                                 "publishes and checks numbered mesh messages (tests, bench/mesh)",
                                 true, tether::meshprobe::install});
  return tether::cli::run(argc, argv);
}
