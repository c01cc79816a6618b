/* pop3-compat.h - the one place where the Wireshark versions the plugin builds for differ
 * (4.0, 4.2, 4.4, 4.6). Where a boundary is not known for certain (4.2), a compile probe against
 * the Wireshark headers decides (plugin/CMakeLists.txt defines POP3_PROBE_*), or a feature macro
 * of the headers themselves, never a version number.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef POP3_COMPAT_H
#define POP3_COMPAT_H

#include <wireshark.h>

/* The variable of a boolean preference: prefs_register_bool_preference() takes `bool *` from
 * 4.4 on and `gboolean *` in 4.0 (GCC 14 rejects the mismatch). */
#ifdef POP3_PROBE_PREF_BOOL_IS_BOOL
typedef bool pop3_pref_bool;
#else
typedef gboolean pop3_pref_bool;
#endif

/* format_text(): in epan/strutil.h taking `const guchar *` (4.0), in wsutil/str_util.h taking
 * `const char *` (4.4 on). */
#ifdef POP3_PROBE_FORMAT_TEXT_CHAR
#include <wsutil/str_util.h>
#define pop3_format_text(scope, bytes, len) format_text((scope), (const char *)(bytes), (len))
#else
#include <epan/strutil.h>
#define pop3_format_text(scope, bytes, len) format_text((scope), (const guchar *)(bytes), (len))
#endif

/* field_info's value: a `fvalue_t` member in 4.0, a `fvalue_t *` from 4.2 on. */
#ifdef POP3_PROBE_FIELD_INFO_VALUE_PTR
#define pop3_field_info_value(fi) ((fi)->value)
#else
#define pop3_field_info_value(fi) (&(fi)->value)
#endif

/* A heuristic dissector returns `gboolean` in 4.0 and `bool` from 4.4 on. */
#ifdef POP3_PROBE_HEUR_BOOL
typedef bool pop3_heur_result;
#else
typedef gboolean pop3_heur_result;
#endif

/* plugin_describe() (4.4 on; wsutil/plugins.h is not installed by 4.0): optional for the loader,
 * but without it `tshark -G plugins` shows the plugin's type as "unknown". */
#ifdef POP3_PROBE_PLUGIN_DESCRIBE
#include <wsutil/plugins.h>
#define POP3_HAVE_PLUGIN_DESCRIBE 1
#define POP3_PLUGIN_DESCRIPTION WS_PLUGIN_DESC_DISSECTOR
#endif

#endif /* POP3_COMPAT_H */
