/* plugin.c - the four symbols Wireshark's plugin loader looks for.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>

#include <epan/proto.h>
#include <epan/tap.h>
#include <ws_version.h>

#include <pop3decode/pop3decode.h>

#include "packet-pop3.h"
#include "pop3-compat.h"

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = POP3D_VERSION_STRING;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
#ifdef POP3_HAVE_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);
#endif

void
plugin_register(void)
{
    static proto_plugin plug_pop3;
    static tap_plugin plug_pop3_stats;

    plug_pop3.register_protoinfo = proto_register_pop3;
    plug_pop3.register_handoff = proto_reg_handoff_pop3;
    proto_register_plugin(&plug_pop3);
    /* the statistics tree registers with the tap listeners, after the protocols */
    plug_pop3_stats.register_tap_listener = pop3_stats_tree_register;
    tap_register_plugin(&plug_pop3_stats);
}

#ifdef POP3_HAVE_PLUGIN_DESCRIBE
uint32_t
plugin_describe(void)
{
    return POP3_PLUGIN_DESCRIPTION;
}
#endif
