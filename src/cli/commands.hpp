#pragma once
// The `tether` subcommands, each registered on the CLI11 app with its flags.
#include <CLI/CLI.hpp>

namespace tether::cli {

void add_serve_command(CLI::App& app);
void add_front_command(CLI::App& app);
void add_up_command(CLI::App& app);
void add_plan_control_commands(CLI::App& app);  // status, scale, kill

}  // namespace tether::cli
