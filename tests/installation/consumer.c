/* A C program using the installed library through pop3decode.h only. */
#include <pop3decode/pop3decode.h>
#include <stdio.h>
#include <string.h>

static int count_commands(void* user_data, const pop3d_event* event) {
  if (event->kind == POP3D_EVENT_COMMAND) ++*(int*)user_data;
  return 0;
}

int main(void) {
  static const char server[] = "+OK ready\r\n";
  static const char client[] = "CAPA\r\nQUIT\r\n";
  int commands = 0;
  pop3d_session* session = pop3d_session_new(NULL);
  if (session == NULL) return 1;
  pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)server, strlen(server),
                     count_commands, &commands);
  pop3d_session_feed(session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)client, strlen(client),
                     count_commands, &commands);
  pop3d_session_free(session);
  if (commands != 2 || strcmp(pop3d_version(), POP3D_VERSION_STRING) != 0 ||
      pop3d_version_number() != POP3D_VERSION_NUMBER) {
    fprintf(stderr, "consumer.c: %d commands, library %s, header %s\n", commands, pop3d_version(),
            POP3D_VERSION_STRING);
    return 1;
  }
  return 0;
}
