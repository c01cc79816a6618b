// Builds against the installed headers and library only.
#include <pop3decode/pop3decode.h>

#include <cstring>
#include <pop3decode/session.hpp>

int main() {
  pop3decode::Session session;
  int commands = 0;
  auto count = [&](const pop3decode::Event& e) {
    commands += e.kind == pop3decode::EventKind::command;
  };
  session.feed(pop3decode::Direction::server_to_client, "+OK\r\n", count);
  session.feed(pop3decode::Direction::client_to_server, "CAPA\r\n", count);
  return commands == 1 && std::strcmp(pop3d_version(), POP3D_VERSION_STRING) == 0 ? 0 : 1;
}
