/* pop3-tap.h - the record the POP3 dissector queues on the "pop3" tap.
 *
 * One record per decoded event (a command, a status line, a data line, a login result...), in
 * the order of the events of the frame; every pass that dissects the frame queues them again.
 * A tap listener (C, or Lua: Listener.new("pop3")) receives a pointer to this struct as its
 * `data`. Everything it points to lives until the end of the frame's dissection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef POP3_TAP_H
#define POP3_TAP_H

#include <wireshark.h>

#include <pop3decode/pop3decode.h>

typedef struct pop3_tap_info {
    guint32 kind;       /* pop3d_event_kind of the event */
    guint32 direction;  /* pop3d_direction */
    guint32 command;    /* pop3d_command the event belongs to (POP3D_CMD_NONE if none) */
    guint64 request_id; /* 1-based number of that command in the conversation; 0 if none */
    /* COMMAND: the verb as sent, upper-cased ("USER", "XTND"...); STATUS: the verb of the
     * command answered; NULL otherwise */
    const char *verb;
    /* GREETING and STATUS: "+OK", "-ERR" (or the non-standard indicator as sent); NULL
     * otherwise */
    const char *indicator;
    const char *response_code; /* GREETING and STATUS: "IN-USE", "SYS/TEMP"...; NULL if none */
    /* AUTH_RESULT: the method ("USER/PASS", "APOP", "PLAIN"...), the result ("success",
     * "failure", "cancelled", "aborted"...) and the user name (NULL if unknown) */
    const char *auth_method;
    const char *auth_result;
    const char *user;
    /* STATUS answering a command seen in the capture: the frame of that command and the time
     * from it to this frame; request_frame 0 and response_time zero otherwise */
    guint32 request_frame;
    nstime_t response_time;
    const pop3d_event *event; /* the whole event, as the library reported it */
} pop3_tap_info;

#endif /* POP3_TAP_H */
