#pragma once
// The meshprobe app (meshprobe.cpp): publishes numbered mesh messages and
// reports what arrived, for the mesh tests and bench/mesh.
#include "tether/app.hpp"

namespace tether::meshprobe {

void install(AppSetup& setup);

}  // namespace tether::meshprobe
