/* pop3-stats.c - the "pop3" tap and the POP3 statistics tree (tshark -z pop3,tree; Statistics >
 * POP3 in Wireshark).
 *
 * The dissector calls pop3_tap_queue() for every event it shows (every pass); this file turns
 * the event into a pop3_tap_info (pop3-tap.h) and queues it. The statistics tree counts them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>

#include <epan/packet.h>
#include <epan/charsets.h>
#include <epan/stats_tree.h>
#include <wsutil/str_util.h>
#include <epan/tap.h>

#include <pop3decode/pop3decode.h>

#include "packet-pop3.h"
#include "pop3-tap.h"

static int pop3_tap = -1;

void
pop3_tap_register(void)
{
    pop3_tap = register_tap("pop3");
}

/* The text of the first item of `field` (pinfo->pool), or NULL. */
static const char *
event_text(packet_info *pinfo, const pop3d_event *ev, guint32 field)
{
    size_t i;

    for (i = 0; i < ev->item_count; i++) {
        const pop3d_item *it = &ev->items[i];
        if (it->field == field && it->text && it->text_length && it->text_length < G_MAXINT)
            return (const char *)get_utf_8_string(pinfo->pool, it->text, (gint)it->text_length);
    }
    return NULL;
}

const char *
pop3_login_name(wmem_allocator_t *scope, const char *authcid, const char *authzid)
{
    if (authcid && !*authcid)
        authcid = NULL;
    if (authzid && !*authzid)
        authzid = NULL;
    if (authcid && authzid && strcmp(authcid, authzid) != 0)
        return wmem_strdup_printf(scope, "%s as %s", authcid, authzid);
    return authcid ? authcid : authzid;
}

void
pop3_tap_queue(packet_info *pinfo, const pop3d_event *ev, guint32 request_frame,
               const nstime_t *request_time)
{
    pop3_tap_info *info;

    if (pop3_tap < 0 || !have_tap_listener(pop3_tap))
        return;
    info = wmem_new0(pinfo->pool, pop3_tap_info);
    info->kind = ev->kind;
    info->direction = ev->direction;
    info->command = ev->command;
    info->request_id = ev->request_id;
    info->event = ev;
    switch (ev->kind) {
    case POP3D_EVENT_COMMAND: {
        const char *verb = event_text(pinfo, ev, POP3D_FIELD_REQUEST_COMMAND);
        info->verb = verb ? ascii_strup_inplace(wmem_strdup(pinfo->pool, verb)) : NULL;
        break;
    }
    case POP3D_EVENT_GREETING:
    case POP3D_EVENT_STATUS:
        info->indicator = event_text(pinfo, ev, POP3D_FIELD_RESPONSE_INDICATOR);
        info->response_code = event_text(pinfo, ev, POP3D_FIELD_RESPONSE_CODE);
        if (ev->kind == POP3D_EVENT_STATUS && ev->command != POP3D_CMD_NONE) {
            const char *verb = event_text(pinfo, ev, POP3D_FIELD_RESPONSE_TO_COMMAND);
            if (!verb)
                verb = pop3d_command_name(ev->command);
            info->verb = verb ? ascii_strup_inplace(wmem_strdup(pinfo->pool, verb)) : NULL;
        }
        if (request_frame && request_time) {
            info->request_frame = request_frame;
            nstime_delta(&info->response_time, &pinfo->abs_ts, request_time);
        }
        break;
    case POP3D_EVENT_AUTH_RESULT:
        info->auth_method = event_text(pinfo, ev, POP3D_FIELD_AUTH_METHOD);
        info->auth_result = event_text(pinfo, ev, POP3D_FIELD_AUTH_RESULT);
        info->user = pop3_login_name(pinfo->pool, event_text(pinfo, ev, POP3D_FIELD_AUTH_USERNAME),
                                     event_text(pinfo, ev, POP3D_FIELD_AUTH_AUTHZID));
        break;
    default: break;
    }
    tap_queue_packet(pop3_tap, pinfo, info);
}

/* ---------------------------------------------------------------------------------------------
 * Statistics tree
 * ------------------------------------------------------------------------------------------- */

static const char st_commands[] = "POP3 commands";
static const char st_answers[] = "POP3 answers";
static const char st_logins[] = "POP3 logins";
static const char st_users[] = "POP3 users";
static const char st_times[] = "POP3 response time (ms)";

static int st_node_commands = -1;
static int st_node_answers = -1;
static int st_node_logins = -1;
static int st_node_users = -1;
static int st_node_times = -1;

static void
pop3_stats_tree_init(stats_tree *st)
{
    st_node_commands = stats_tree_create_node(st, st_commands, 0, STAT_DT_INT, TRUE);
    st_node_answers = stats_tree_create_node(st, st_answers, 0, STAT_DT_INT, TRUE);
    st_node_logins = stats_tree_create_node(st, st_logins, 0, STAT_DT_INT, TRUE);
    st_node_users = stats_tree_create_node(st, st_users, 0, STAT_DT_INT, TRUE);
    st_node_times = stats_tree_create_node(st, st_times, 0, STAT_DT_FLOAT, TRUE);
    stat_node_set_flags(st, st_times, 0, FALSE, ST_FLG_AVERAGE);
}

static tap_packet_status
pop3_stats_tree_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_,
                       const void *data, tap_flags_t flags _U_)
{
    const pop3_tap_info *info = (const pop3_tap_info *)data;

    switch (info->kind) {
    case POP3D_EVENT_COMMAND:
        tick_stat_node(st, st_commands, 0, FALSE);
        tick_stat_node(st, info->verb ? info->verb : "(empty)", st_node_commands, FALSE);
        return TAP_PACKET_REDRAW;
    case POP3D_EVENT_GREETING:
    case POP3D_EVENT_STATUS: {
        int node;
        tick_stat_node(st, st_answers, 0, FALSE);
        node =
            tick_stat_node(st, info->indicator ? info->indicator : "(none)", st_node_answers, TRUE);
        if (info->response_code)
            tick_stat_node(st, wmem_strdup_printf(pinfo->pool, "[%s]", info->response_code), node,
                           FALSE);
        else
            tick_stat_node(st, "(no response code)", node, FALSE);
        if (info->request_frame) {
            gfloat ms = (gfloat)nstime_to_msec(&info->response_time);
            avg_stat_node_add_value_float(st, st_times, 0, TRUE, ms);
            avg_stat_node_add_value_float(st, info->verb ? info->verb : "(none)", st_node_times,
                                          FALSE, ms);
        }
        return TAP_PACKET_REDRAW;
    }
    case POP3D_EVENT_AUTH_RESULT: {
        int node;
        tick_stat_node(st, st_logins, 0, FALSE);
        node = tick_stat_node(st, info->auth_method ? info->auth_method : "(unknown)",
                              st_node_logins, TRUE);
        tick_stat_node(st, info->auth_result ? info->auth_result : "(unknown)", node, FALSE);
        if (info->user) {
            tick_stat_node(st, st_users, 0, FALSE);
            node = tick_stat_node(st, info->user, st_node_users, TRUE);
            tick_stat_node(st, info->auth_result ? info->auth_result : "(unknown)", node, FALSE);
        }
        return TAP_PACKET_REDRAW;
    }
    default: return TAP_PACKET_DONT_REDRAW;
    }
}

void
pop3_stats_tree_register(void)
{
    stats_tree_register_plugin("pop3", "pop3", "POP3", 0, pop3_stats_tree_packet,
                               pop3_stats_tree_init, NULL);
}
