#pragma once
// The page both chat apps serve (`chat` over the mesh, `signalr-chat` over
// the SignalR hub): plain HTML, no framework. Only the script that talks to
// the server differs; the shell, style, form and log helpers are here once.
#include <string>
#include <string_view>

namespace tether::apps {

// The page titled `title` (also its heading), with `head_extra` at the end
// of <head> (e.g. a <script src>), and `script` run after the shared
// helpers: `log` (the #log list), `short(id)` (8 characters) and
// `add(text, via, cls)` (appends a line). The form has #name, #text and
// #send; #instance shows where the page is connected.
std::string chat_page(std::string_view title, std::string_view head_extra, std::string_view script);

}  // namespace tether::apps
