/*
 * pop3decode.h - the C ABI of libpop3decode.
 *
 * A streaming decoder of POP3 conversations (RFC 1939, 2449, 3206, 5034, 1734, 2595, 6856).
 * One pop3d_session per TCP conversation. Bytes of each direction are fed in capture order, in
 * any chunking; the session calls back with events. Every event, item and anomaly carries an
 * absolute offset in the stream of its direction (byte 0 is the first byte ever fed for that
 * direction), so results are identical however the input is split.
 *
 * Conventions:
 * - Every function is safe to call from C and never lets a C++ exception escape.
 * - Functions returning int return POP3D_OK (0) on success or a negative pop3d_status.
 * - Borrowed bytes: every pointer inside a pop3d_event (line, data, items' text, buffers) is
 *   valid only until the event callback returns. Copy what you keep.
 * - Strings returned by the table functions (names, descriptions) are static and live forever.
 * - Text values are byte strings with a length; they are not NUL-terminated.
 * - Threads: a pop3d_session is used by one thread at a time (it may move between threads
 *   with the caller's own synchronisation); distinct sessions are independent and may be used
 *   in parallel. The table functions, the verification functions and pop3d_version may be
 *   called from any thread at any time; a pop3d_url is read-only after pop3d_url_parse.
 * - Callbacks run synchronously, inside the call that feeds the session, on the caller's
 *   thread. A callback may read the session (state, user, offset, capabilities) but must not
 *   feed it: see pop3d_event_callback.
 */
#ifndef POP3DECODE_H
#define POP3DECODE_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(POP3DECODE_BUILDING)
#define POP3D_EXPORT __declspec(dllexport)
#else
#define POP3D_EXPORT
#endif
#else
#define POP3D_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
#define POP3D_NOEXCEPT noexcept
extern "C" {
#else
#define POP3D_NOEXCEPT
#endif

/* The one place the version is written: the build (CMake, pkg-config, the SONAME
 * libpop3decode.so.<MAJOR>) reads these three lines. A new MAJOR breaks the ABI. */
#define POP3D_VERSION_MAJOR 1
#define POP3D_VERSION_MINOR 0
#define POP3D_VERSION_PATCH 0
#define POP3D_STRINGIFY_(x) #x
#define POP3D_STRINGIFY(x) POP3D_STRINGIFY_(x)
/* "MAJOR.MINOR.PATCH" */
#define POP3D_VERSION_STRING           \
  POP3D_STRINGIFY(POP3D_VERSION_MAJOR) \
  "." POP3D_STRINGIFY(POP3D_VERSION_MINOR) "." POP3D_STRINGIFY(POP3D_VERSION_PATCH)
/* MAJOR * 10000 + MINOR * 100 + PATCH, for comparisons in #if */
#define POP3D_VERSION_NUMBER \
  (POP3D_VERSION_MAJOR * 10000 + POP3D_VERSION_MINOR * 100 + POP3D_VERSION_PATCH)

/* ---------------------------------------------------------------------------------------------
 * Anomaly table: X(ID, name, severity, group, description)
 * The name is stable (scripts and expert-item filters depend on it); append, never renumber.
 * Severity: NOTE, CHAT, WARN, ERROR.  Group: MALFORMED, SEQUENCE, PROTOCOL, RESPONSE_CODE,
 * AUTH_FAILURE, SECURITY, UNDECODED.
 * ------------------------------------------------------------------------------------------- */
/* One row per line, continuations aligned: */
/* clang-format off */
#define POP3D_ANOMALY_MAP(X)                                                                       \
  X(LINE_BARE_LF, "line_bare_lf", WARN, MALFORMED, "Line ended by LF without CR")                  \
  X(LINE_BARE_CR, "line_bare_cr", WARN, MALFORMED, "CR not followed by LF inside a line")          \
  X(LINE_NUL, "line_nul", WARN, MALFORMED, "NUL byte in a line")                                   \
  X(LINE_8BIT, "line_8bit", NOTE, PROTOCOL, "8-bit byte in a command or status line")              \
  X(LINE_TOO_LONG, "line_too_long", WARN, MALFORMED,                                               \
    "Line longer than the decoder's bound; delivered in pieces")                                   \
  X(COMMAND_TOO_LONG, "command_too_long", WARN, PROTOCOL,                                          \
    "Command line longer than 255 octets (RFC 2449 section 4)")                                    \
  X(RESPONSE_TOO_LONG, "response_too_long", WARN, PROTOCOL,                                        \
    "First response line longer than 512 octets (RFC 2449 section 4)")                            \
  X(COMMAND_EMPTY, "command_empty", WARN, MALFORMED, "Empty command line")                         \
  X(COMMAND_UNKNOWN, "command_unknown", WARN, PROTOCOL, "Unknown command")                         \
  X(COMMAND_ARG_COUNT, "command_arg_count", WARN, MALFORMED, "Wrong number of arguments")          \
  X(COMMAND_ARG_INVALID, "command_arg_invalid", WARN, MALFORMED,                                   \
    "Argument malformed (not a number, not a language tag)")                                       \
  X(COMMAND_WRONG_STATE, "command_wrong_state", WARN, SEQUENCE,                                    \
    "Command not allowed in the current session state")                                            \
  X(COMMAND_NOT_ADVERTISED, "command_not_advertised", NOTE, SEQUENCE,                              \
    "Command needs a capability the server did not advertise")                                     \
  X(COMMAND_AFTER_QUIT, "command_after_quit", WARN, SEQUENCE, "Client data after QUIT")            \
  X(APOP_DIGEST_INVALID, "apop_digest_invalid", WARN, MALFORMED,                                   \
    "APOP digest is not 32 hexadecimal digits")                                                    \
  X(APOP_NO_TIMESTAMP, "apop_no_timestamp", WARN, SEQUENCE,                                        \
    "APOP used but the greeting carried no timestamp")                                             \
  X(GREETING_TIMESTAMP_MALFORMED, "greeting_timestamp_malformed", NOTE, MALFORMED,                 \
    "Greeting timestamp is not of the form <...@...>")                                             \
  X(STATUS_INVALID, "status_invalid", ERROR, MALFORMED,                                            \
    "Server line is neither +OK nor -ERR where a status was expected")                             \
  X(STATUS_NONSTANDARD, "status_nonstandard", WARN, PROTOCOL,                                      \
    "Non-standard status indicator (such as +ERR or lower case)")                                  \
  X(RESPONSE_WITHOUT_REQUEST, "response_without_request", WARN, SEQUENCE,                          \
    "Response with no outstanding request")                                                        \
  X(RESPONSE_CODE_UNKNOWN, "response_code_unknown", NOTE, PROTOCOL, "Unknown response code")       \
  X(RESPONSE_CODE_MALFORMED, "response_code_malformed", WARN, MALFORMED,                           \
    "Malformed response code")                                                                     \
  X(RESPONSE_CODE_IN_USE, "response_code_in_use", WARN, RESPONSE_CODE,                             \
    "[IN-USE]: the mailbox is locked by another session")                                          \
  X(RESPONSE_CODE_LOGIN_DELAY, "response_code_login_delay", WARN, RESPONSE_CODE,                   \
    "[LOGIN-DELAY]: login refused, too soon after the previous one")                               \
  X(RESPONSE_CODE_SYS_TEMP, "response_code_sys_temp", WARN, RESPONSE_CODE,                         \
    "[SYS/TEMP]: temporary system failure")                                                        \
  X(RESPONSE_CODE_SYS_PERM, "response_code_sys_perm", ERROR, RESPONSE_CODE,                        \
    "[SYS/PERM]: permanent system failure")                                                        \
  X(RESPONSE_CODE_AUTH, "response_code_auth", NOTE, RESPONSE_CODE,                                 \
    "[AUTH]: credentials rejected")                                                                \
  X(RESPONSE_CODE_UTF8, "response_code_utf8", NOTE, RESPONSE_CODE,                                 \
    "[UTF8]: mailbox needs UTF8 mode")                                                             \
  X(STAT_MALFORMED, "stat_malformed", WARN, MALFORMED, "STAT response is not 'nn mm'")             \
  X(LISTING_MALFORMED, "listing_malformed", WARN, MALFORMED,                                       \
    "Scan or unique-id listing is malformed")                                                      \
  X(UID_INVALID, "uid_invalid", WARN, MALFORMED,                                                   \
    "Unique-id has characters outside 0x21-0x7E or exceeds 70 characters")                         \
  X(CAPA_UNKNOWN, "capa_unknown", NOTE, PROTOCOL, "Capability not in the IANA registry")           \
  X(CAPA_EXPERIMENTAL, "capa_experimental", CHAT, PROTOCOL, "Experimental X- capability")          \
  X(CAPA_MALFORMED, "capa_malformed", WARN, MALFORMED, "Capability arguments malformed")           \
  X(DATA_UNSTUFFED_DOT, "data_unstuffed_dot", WARN, MALFORMED,                                     \
    "Data line starts with a single dot that was not byte-stuffed")                                \
  X(DATA_UNTERMINATED, "data_unterminated", WARN, MALFORMED,                                       \
    "Multi-line response not terminated before the connection ended")                             \
  X(QUEUE_OVERFLOW, "queue_overflow", WARN, UNDECODED,                                             \
    "Too many outstanding commands; the newest are not matched to their answers")                  \
  X(MIDSTREAM, "midstream", NOTE, UNDECODED,                                                       \
    "Capture starts mid-conversation; resynchronised at a line boundary")                          \
  X(GAP, "gap", WARN, UNDECODED, "Bytes missing from the stream; resynchronised")                  \
  X(NOT_POP3, "not_pop3", WARN, UNDECODED,                                                         \
    "Traffic does not look like POP3; decoding stopped")                                           \
  X(SASL_MECH_NOT_ADVERTISED, "sasl_mech_not_advertised", NOTE, SEQUENCE,                          \
    "SASL mechanism not advertised in CAPA")                                                       \
  X(SASL_BAD_BASE64, "sasl_bad_base64", WARN, MALFORMED, "SASL line is not valid base64")          \
  X(SASL_STEP_COUNT, "sasl_step_count", WARN, PROTOCOL,                                            \
    "More SASL steps than the mechanism allows")                                                   \
  X(SASL_DATA_AFTER_CANCEL, "sasl_data_after_cancel", WARN, SEQUENCE,                              \
    "Client data after cancelling the SASL exchange")                                              \
  X(SASL_MALFORMED, "sasl_malformed", WARN, MALFORMED, "SASL mechanism payload malformed")         \
  X(SASL_PLAIN_NUL_COUNT, "sasl_plain_nul_count", WARN, MALFORMED,                                 \
    "PLAIN payload does not have exactly two NUL separators")                                      \
  X(SASL_UNKNOWN_MECHANISM, "sasl_unknown_mechanism", NOTE, UNDECODED,                             \
    "SASL mechanism unknown to the decoder; payload shown as bytes")                               \
  X(SASL_ABORTED, "sasl_aborted", WARN, SEQUENCE,                                                  \
    "Connection ended during a SASL exchange")                                                     \
  X(SASL_CANCELLED, "sasl_cancelled", NOTE, AUTH_FAILURE, "Client cancelled the SASL exchange")    \
  X(AUTH_FAILED, "auth_failed", WARN, AUTH_FAILURE, "Server rejected the credentials")            \
  X(CLEARTEXT_PASSWORD, "cleartext_password", WARN, SECURITY,                                      \
    "Password sent in clear text outside TLS")                                                     \
  X(PASSWORD_MISMATCH, "password_mismatch", WARN, AUTH_FAILURE,                                    \
    "Credential does not match the known password")                                                \
  X(TLS_ANOMALY, "stls_not_tls", WARN, PROTOCOL,                                                   \
    "STLS refused by the server, or sent again once TLS is in place")                              \
  X(COMMAND_ARG_RANGE, "command_arg_range", WARN, PROTOCOL,                                        \
    "Message number 0 or above the count STAT gave")                                              \
  X(RESPONSE_TO_LOST_COMMAND, "response_to_lost_command", WARN, SEQUENCE,                          \
    "Response to a command the capture lost or never saw; paired with none")                      \
  X(RESPONSE_PAIRING_UNCERTAIN, "response_pairing_uncertain", WARN, SEQUENCE,                      \
    "Response after capture loss that could answer more than one command; paired with none")
/* clang-format on */

typedef enum pop3d_anomaly {
#define POP3D_X_ENUM(id, name, sev, group, desc) POP3D_ANOMALY_##id,
  POP3D_ANOMALY_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_ANOMALY_COUNT
} pop3d_anomaly;

typedef enum pop3d_severity {
  POP3D_SEVERITY_CHAT = 0,
  POP3D_SEVERITY_NOTE = 1,
  POP3D_SEVERITY_WARN = 2,
  POP3D_SEVERITY_ERROR = 3
} pop3d_severity;

typedef enum pop3d_anomaly_group {
  POP3D_GROUP_MALFORMED = 0,
  POP3D_GROUP_SEQUENCE = 1,
  POP3D_GROUP_PROTOCOL = 2,
  POP3D_GROUP_RESPONSE_CODE = 3,
  POP3D_GROUP_AUTH_FAILURE = 4,
  POP3D_GROUP_SECURITY = 5,
  POP3D_GROUP_UNDECODED = 6
} pop3d_anomaly_group;

/* ---------------------------------------------------------------------------------------------
 * Field table: X(ID, name, type, description)
 * Items of events refer to these. The name is stable: the Wireshark plugin registers each one as
 * the display filter "pop3." name. Append, never renumber.
 * Types: NONE (a subtree label), STRING (text bytes), UINT (unsigned number), BOOL (0/1),
 * BYTES (binary bytes).
 * ------------------------------------------------------------------------------------------- */
/* One row per line, continuations aligned: */
/* clang-format off */
#define POP3D_FIELD_MAP_CORE(X)                                                                    \
  X(REQUEST, "request", NONE, "Request")                                                           \
  X(REQUEST_COMMAND, "request.command", STRING, "Command")                                         \
  X(REQUEST_PARAMETER, "request.parameter", STRING, "Parameter")                                   \
  X(REQUEST_LINES, "request.lines", UINT, "TOP line count")                                        \
  X(REQUEST_LANG, "request.lang", STRING, "LANG language tag")                                     \
  X(RESPONSE, "response", NONE, "Response")                                                        \
  X(RESPONSE_INDICATOR, "response.indicator", STRING, "Status indicator")                          \
  X(RESPONSE_CODE, "response.code", STRING, "Extended response code")                              \
  X(RESPONSE_CODE_LEVEL, "response.code.level", STRING, "Response code hierarchy level")           \
  X(RESPONSE_CODE_ARGS, "response.code.args", STRING, "Response code arguments")                   \
  X(RESPONSE_DESCRIPTION, "response.description", STRING, "Response description")                 \
  X(RESPONSE_OCTETS, "response.octets", UINT, "Announced octet count")                             \
  X(RESPONSE_MULTILINE, "response.multiline", BOOL, "Multi-line response follows")                 \
  X(RESPONSE_TO_COMMAND, "response.command", STRING, "Command answered")                           \
  X(GREETING_TIMESTAMP, "greeting.timestamp", STRING, "APOP timestamp")                            \
  X(STAT_MESSAGES, "stat.messages", UINT, "Messages in maildrop")                                  \
  X(STAT_OCTETS, "stat.octets", UINT, "Size of maildrop in octets")                                \
  X(MSG, "msg", NONE, "Message")                                                                   \
  X(MSG_NUMBER, "msg.number", UINT, "Message number")                                              \
  X(MSG_SIZE, "msg.size", UINT, "Message size in octets")                                          \
  X(MSG_UID, "msg.uid", STRING, "Unique-id")                                                       \
  X(DATA, "data", STRING, "Data line")                                                             \
  X(DATA_STUFFED, "data.stuffed", BOOL, "Leading dot removed (byte-stuffed)")                      \
  X(DATA_END, "data.end", NONE, "End of multi-line response")                                      \
  X(DATA_LINES, "data.lines", UINT, "Lines in multi-line response")                                \
  X(DATA_OCTETS, "data.octets", UINT, "Unstuffed octets in multi-line response")                   \
  X(CAPA, "capa", NONE, "Capability")                                                              \
  X(CAPA_NAME, "capa.name", STRING, "Capability name")                                             \
  X(CAPA_VALUE, "capa.value", STRING, "Capability argument")                                       \
  X(CAPA_SASL_MECHANISM, "capa.sasl", STRING, "Advertised SASL mechanism")                         \
  X(CAPA_LOGIN_DELAY, "capa.login_delay", UINT, "Login delay in seconds")                          \
  X(CAPA_EXPIRE, "capa.expire", UINT, "Expire days")                                               \
  X(CAPA_EXPIRE_NEVER, "capa.expire.never", BOOL, "Messages never expire")                         \
  X(CAPA_PER_USER, "capa.per_user", BOOL, "Value may differ per user (USER)")                      \
  X(CAPA_IMPLEMENTATION, "capa.implementation", STRING, "Server implementation")                   \
  X(SESSION_STATE, "session.state", STRING, "Session state")                                       \
  X(SESSION_USER, "session.user", STRING, "Session user")                                          \
  X(SESSION_TLS, "session.tls", BOOL, "Session protected by TLS")                                  \
  X(SESSION_UTF8, "session.utf8", BOOL, "UTF8 mode")                                               \
  X(AUTH, "auth", NONE, "Authentication")                                                          \
  X(AUTH_METHOD, "auth.method", STRING, "Authentication method")                                   \
  X(AUTH_USERNAME, "auth.username", STRING, "User name")                                           \
  X(AUTH_PASSWORD, "auth.password", STRING, "Password")                                            \
  X(AUTH_AUTHZID, "auth.authzid", STRING, "Authorization identity")                                \
  X(AUTH_SECRET, "auth.secret", STRING, "Secret material (digest, proof, token)")                  \
  X(AUTH_RESULT, "auth.result", STRING, "Authentication result")                                   \
  X(AUTH_STEPS, "auth.steps", UINT, "SASL steps")                                                  \
  X(AUTH_VERIFIED, "auth.verified", BOOL, "Credential matches the known password")                 \
  X(APOP_NAME, "apop.name", STRING, "APOP name")                                                   \
  X(APOP_DIGEST, "apop.digest", STRING, "APOP digest")                                             \
  X(APOP_TIMESTAMP, "apop.timestamp", STRING, "Greeting timestamp the digest covers")              \
  X(UNPARSED, "unparsed", STRING, "Line not understood")                                           \
  X(SKIPPED, "skipped", BYTES, "Bytes skipped while resynchronising")                              \
  X(TLS_DATA, "tls_data", BYTES, "TLS-protected bytes")
/* clang-format on */

/* One row per line, continuations aligned: */
/* clang-format off */
#define POP3D_FIELD_MAP_SASL(X)                                                                    \
  X(SASL, "sasl", NONE, "SASL step")                                                               \
  X(SASL_MECHANISM, "sasl.mechanism", STRING, "SASL mechanism")                                    \
  X(SASL_STEP, "sasl.step", UINT, "SASL step number")                                              \
  X(SASL_BASE64, "sasl.base64", STRING, "SASL data (base64)")                                      \
  X(SASL_DECODED, "sasl.decoded", BYTES, "SASL data (decoded)")                                    \
  X(SASL_EMPTY, "sasl.empty", BOOL, "Empty SASL data")                                             \
  X(SASL_CANCEL, "sasl.cancel", BOOL, "SASL exchange cancelled")                                   \
  X(SASL_INITIAL_RESPONSE, "sasl.initial_response", STRING, "Initial response (base64)")           \
  X(SASL_PLAIN_AUTHZID, "sasl.plain.authzid", STRING, "PLAIN authorization identity")              \
  X(SASL_PLAIN_AUTHCID, "sasl.plain.authcid", STRING, "PLAIN authentication identity")             \
  X(SASL_PLAIN_PASSWORD, "sasl.plain.password", STRING, "PLAIN password")                          \
  X(SASL_LOGIN_PROMPT, "sasl.login.prompt", STRING, "LOGIN server prompt")                         \
  X(SASL_LOGIN_USERNAME, "sasl.login.username", STRING, "LOGIN user name")                         \
  X(SASL_LOGIN_PASSWORD, "sasl.login.password", STRING, "LOGIN password")                          \
  X(SASL_CRAM_CHALLENGE, "sasl.cram_md5.challenge", STRING, "CRAM-MD5 challenge")                  \
  X(SASL_CRAM_USERNAME, "sasl.cram_md5.username", STRING, "CRAM-MD5 user name")                    \
  X(SASL_CRAM_DIGEST, "sasl.cram_md5.digest", STRING, "CRAM-MD5 digest")                           \
  X(SASL_DIGEST_DIRECTIVE, "sasl.digest_md5.directive", STRING, "DIGEST-MD5 directive")            \
  X(SASL_DIGEST_REALM, "sasl.digest_md5.realm", STRING, "DIGEST-MD5 realm")                        \
  X(SASL_DIGEST_NONCE, "sasl.digest_md5.nonce", STRING, "DIGEST-MD5 nonce")                        \
  X(SASL_DIGEST_QOP, "sasl.digest_md5.qop", STRING, "DIGEST-MD5 qop")                              \
  X(SASL_DIGEST_CHARSET, "sasl.digest_md5.charset", STRING, "DIGEST-MD5 charset")                  \
  X(SASL_DIGEST_ALGORITHM, "sasl.digest_md5.algorithm", STRING, "DIGEST-MD5 algorithm")            \
  X(SASL_DIGEST_CIPHER, "sasl.digest_md5.cipher", STRING, "DIGEST-MD5 cipher")                     \
  X(SASL_DIGEST_MAXBUF, "sasl.digest_md5.maxbuf", UINT, "DIGEST-MD5 maxbuf")                       \
  X(SASL_DIGEST_STALE, "sasl.digest_md5.stale", STRING, "DIGEST-MD5 stale")                        \
  X(SASL_DIGEST_USERNAME, "sasl.digest_md5.username", STRING, "DIGEST-MD5 user name")              \
  X(SASL_DIGEST_CNONCE, "sasl.digest_md5.cnonce", STRING, "DIGEST-MD5 cnonce")                     \
  X(SASL_DIGEST_NC, "sasl.digest_md5.nc", STRING, "DIGEST-MD5 nonce count")                        \
  X(SASL_DIGEST_URI, "sasl.digest_md5.digest_uri", STRING, "DIGEST-MD5 digest-uri")                \
  X(SASL_DIGEST_RESPONSE, "sasl.digest_md5.response", STRING, "DIGEST-MD5 response")              \
  X(SASL_DIGEST_AUTHZID, "sasl.digest_md5.authzid", STRING, "DIGEST-MD5 authzid")                  \
  X(SASL_DIGEST_RSPAUTH, "sasl.digest_md5.rspauth", STRING, "DIGEST-MD5 rspauth")                  \
  X(SASL_SCRAM_GS2_FLAG, "sasl.scram.gs2_cbind_flag", STRING, "SCRAM GS2 channel-binding flag")    \
  X(SASL_SCRAM_CB_NAME, "sasl.scram.cb_name", STRING, "SCRAM channel-binding type")                \
  X(SASL_SCRAM_AUTHZID, "sasl.scram.authzid", STRING, "SCRAM authorization identity (a=)")         \
  X(SASL_SCRAM_USERNAME, "sasl.scram.username", STRING, "SCRAM user name (n=)")                    \
  X(SASL_SCRAM_NONCE, "sasl.scram.nonce", STRING, "SCRAM nonce (r=)")                              \
  X(SASL_SCRAM_SALT, "sasl.scram.salt", STRING, "SCRAM salt (s=)")                                 \
  X(SASL_SCRAM_ITERATIONS, "sasl.scram.iterations", UINT, "SCRAM iteration count (i=)")            \
  X(SASL_SCRAM_CHANNEL_BINDING, "sasl.scram.channel_binding", STRING,                              \
    "SCRAM channel binding (c=)")                                                                  \
  X(SASL_SCRAM_PROOF, "sasl.scram.proof", STRING, "SCRAM client proof (p=)")                       \
  X(SASL_SCRAM_VERIFIER, "sasl.scram.verifier", STRING, "SCRAM server signature (v=)")             \
  X(SASL_SCRAM_ERROR, "sasl.scram.error", STRING, "SCRAM server error (e=)")                       \
  X(SASL_SCRAM_EXTENSION, "sasl.scram.extension", STRING, "SCRAM extension attribute")             \
  X(SASL_SCRAM_MD5_AUTHZID, "sasl.scram_md5.authzid", STRING, "SCRAM-MD5 authorization id")        \
  X(SASL_SCRAM_MD5_AUTHCID, "sasl.scram_md5.authcid", STRING, "SCRAM-MD5 authentication id")       \
  X(SASL_SCRAM_MD5_CLIENT_NONCE, "sasl.scram_md5.client_nonce", STRING, "SCRAM-MD5 client nonce")  \
  X(SASL_SCRAM_MD5_SALT, "sasl.scram_md5.salt", BYTES, "SCRAM-MD5 salt")                           \
  X(SASL_SCRAM_MD5_SERVER_LAYERS, "sasl.scram_md5.server_layers", BYTES,                           \
    "SCRAM-MD5 server security layers")                                                            \
  X(SASL_SCRAM_MD5_SERVICE, "sasl.scram_md5.service", STRING, "SCRAM-MD5 service name")            \
  X(SASL_SCRAM_MD5_SERVER_NONCE, "sasl.scram_md5.server_nonce", STRING, "SCRAM-MD5 server nonce")  \
  X(SASL_SCRAM_MD5_CLIENT_LAYERS, "sasl.scram_md5.client_layers", BYTES,                           \
    "SCRAM-MD5 client security layers")                                                            \
  X(SASL_SCRAM_MD5_PROOF, "sasl.scram_md5.proof", BYTES, "SCRAM-MD5 client proof")                 \
  X(SASL_SCRAM_MD5_VERIFIER, "sasl.scram_md5.verifier", BYTES, "SCRAM-MD5 server verifier")        \
  X(SASL_XOAUTH2_USER, "sasl.xoauth2.user", STRING, "XOAUTH2 user")                                \
  X(SASL_XOAUTH2_TOKEN, "sasl.xoauth2.token", STRING, "XOAUTH2 bearer token")                      \
  X(SASL_XOAUTH2_ERROR, "sasl.xoauth2.error", STRING, "XOAUTH2 server error (JSON)")               \
  X(SASL_OAUTH_GS2_HEADER, "sasl.oauthbearer.gs2_header", STRING, "OAUTHBEARER GS2 header")        \
  X(SASL_OAUTH_AUTHZID, "sasl.oauthbearer.authzid", STRING, "OAUTHBEARER authorization id (a=)")   \
  X(SASL_OAUTH_HOST, "sasl.oauthbearer.host", STRING, "OAUTHBEARER host")                          \
  X(SASL_OAUTH_PORT, "sasl.oauthbearer.port", UINT, "OAUTHBEARER port")                            \
  X(SASL_OAUTH_AUTH, "sasl.oauthbearer.auth", STRING, "OAUTHBEARER auth (token)")                  \
  X(SASL_OAUTH_KVPAIR, "sasl.oauthbearer.kvpair", STRING, "OAUTHBEARER other key/value")           \
  X(SASL_OAUTH_ERROR, "sasl.oauthbearer.error", STRING, "OAUTHBEARER server error (JSON)")         \
  X(SASL_EXTERNAL_AUTHZID, "sasl.external.authzid", STRING, "EXTERNAL authorization identity")     \
  X(SASL_ANONYMOUS_TRACE, "sasl.anonymous.trace", STRING, "ANONYMOUS trace information")           \
  X(SASL_NTLM_TOKEN, "sasl.ntlm.token", BYTES, "NTLMSSP message")                                  \
  X(SASL_NTLM_MESSAGE_TYPE, "sasl.ntlm.message_type", UINT, "NTLMSSP message type")                \
  X(SASL_NTLM_USER, "sasl.ntlm.user", STRING, "NTLM user name")                                    \
  X(SASL_NTLM_DOMAIN, "sasl.ntlm.domain", STRING, "NTLM domain")                                   \
  X(SASL_NTLM_WORKSTATION, "sasl.ntlm.workstation", STRING, "NTLM workstation")                    \
  X(SASL_GSSAPI_TOKEN, "sasl.gssapi.token", BYTES, "GSS-API token")                                \
  X(SASL_UNKNOWN_PAYLOAD, "sasl.payload", BYTES, "SASL payload of an unknown mechanism")
/* clang-format on */

/* Fields added after the two maps above were fixed: appended here so no number moves. */
/* clang-format off */
#define POP3D_FIELD_MAP_ADDED(X)                                                                   \
  X(CAPA_UTF8_USER, "capa.utf8.user", BOOL,                                                        \
    "UTF-8 accepted in USER and PASS (RFC 6856 UTF8 USER)")
/* clang-format on */

#define POP3D_FIELD_MAP(X) POP3D_FIELD_MAP_CORE(X) POP3D_FIELD_MAP_SASL(X) POP3D_FIELD_MAP_ADDED(X)

typedef enum pop3d_field {
#define POP3D_X_ENUM(id, name, type, desc) POP3D_FIELD_##id,
  POP3D_FIELD_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_FIELD_COUNT
} pop3d_field;

typedef enum pop3d_field_type {
  POP3D_TYPE_NONE = 0,
  POP3D_TYPE_STRING = 1,
  POP3D_TYPE_UINT = 2,
  POP3D_TYPE_BOOL = 3,
  POP3D_TYPE_BYTES = 4
} pop3d_field_type;

/* --------------------------------------------------------------------------------------------- */

/* Status codes: X(ID, value, name, description). Values are stable; -4 (a "not found" code
 * that no function returned) is retired and not reused. */
/* clang-format off */
#define POP3D_STATUS_MAP(X)                                                                        \
  X(OK, 0, "ok", "Success")                                                                        \
  X(ERR_INVALID_ARGUMENT, -1, "invalid_argument",                                                  \
    "A NULL handle or pointer where one is required, or a value out of range")                     \
  X(ERR_NO_MEMORY, -2, "no_memory",                                                                \
    "Allocation failed; a session that was decoding is failed: free it")                           \
  X(ERR_CALLBACK, -3, "callback",                                                                  \
    "The event callback returned non-zero; decoding stopped at the end of that line")              \
  X(ERR_PARSE, -5, "parse", "Input could not be parsed or checked")                                \
  X(ERR_REENTRANT, -6, "reentrant",                                                                \
    "Called from an event callback of the same session; nothing was done")                         \
  X(ERR_INTERNAL, -7, "internal",                                                                  \
    "Unexpected failure inside the library; a session that was decoding is failed: free it")
/* clang-format on */

typedef enum pop3d_status {
#define POP3D_X_ENUM(id, value, name, desc) POP3D_##id = value,
  POP3D_STATUS_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
} pop3d_status;

/* The stable name of a status ("ok", "callback", ...), or NULL for a value not listed. */
POP3D_EXPORT const char* pop3d_status_name(int status) POP3D_NOEXCEPT;
/* A sentence describing a status, or NULL for a value not listed. */
POP3D_EXPORT const char* pop3d_status_description(int status) POP3D_NOEXCEPT;

typedef enum pop3d_direction {
  POP3D_CLIENT_TO_SERVER = 0,
  POP3D_SERVER_TO_CLIENT = 1
} pop3d_direction;

/* ---------------------------------------------------------------------------------------------
 * Event kinds: X(ID, name, description). The value is the row's position; append, never
 * renumber. The name is what pop3d_event_kind_name returns.
 *
 * Order of events within one feed: a server line that answers a command gives, in this order,
 *   STATUS, then AUTH_RESULT (when it ends a login), then STATE (when the session state, TLS or
 *   UTF8 mode changed), then TRANSACTION (when the answer is complete: single-line answers and
 *   the end of a SASL exchange);
 * a multi-line answer gives STATUS, DATA_LINE..., DATA_END, then TRANSACTION (with
 *   DATA_CHUNK wanted: STATUS, DATA_CHUNK..., DATA_END, TRANSACTION; see DATA_CHUNK). At finish:
 *   the partial lines, AUTH_RESULT "aborted" (SASL exchange cut), TRANSACTION for the command
 *   whose answer was cut and then one per unanswered command (oldest first), END last.
 * SKIPPED and TLS events report bytes as they arrive (never buffered), so they are cut where the
 * input was cut; contiguous ones cover the same range however it was split.
 * ------------------------------------------------------------------------------------------- */
/* clang-format off */
#define POP3D_EVENT_KIND_MAP(X)                                                                    \
  X(GREETING, "greeting", "server greeting (a status line)")                                       \
  X(COMMAND, "command", "client command line")                                                     \
  X(STATUS, "status", "+OK/-ERR answering a command (may start multi-line data)")                  \
  X(DATA_LINE, "data_line", "one line of multi-line data")                                         \
  X(DATA_END, "data_end", "the terminating \".\" line")                                            \
  X(SASL_SERVER, "sasl_server", "server \"+ ...\" continuation during AUTH")                        \
  X(SASL_CLIENT, "sasl_client", "client response line during AUTH")                                \
  X(STATE, "state", "session state changed (items: session.*); no bytes")                          \
  X(AUTH_RESULT, "auth_result", "a login attempt ended (items: auth.*); no bytes")                 \
  X(UNPARSED, "unparsed", "a line that fits nowhere (kept verbatim)")                              \
  X(SKIPPED, "skipped", "bytes skipped while resynchronising or after NOT_POP3")                   \
  X(TLS, "tls", "bytes after STLS that are TLS records, not POP3")                                 \
  X(END, "end", "pop3d_session_finish: connection ended")                                          \
  X(TRANSACTION, "transaction", "a command's answer is complete (pop3d_event.transaction)")      \
  X(DATA_CHUNK, "data_chunk", "multi-line data as one run of unstuffed bytes (not by default)")
/* clang-format on */

typedef enum pop3d_event_kind {
#define POP3D_X_ENUM(id, name, desc) POP3D_EVENT_##id,
  POP3D_EVENT_KIND_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_EVENT_KIND_COUNT
} pop3d_event_kind;

/* Bit of an event kind in pop3d_options.wanted_events. */
#define POP3D_EVENT_BIT(kind) (1u << (kind))
#define POP3D_EVENTS_ALL ((1u << POP3D_EVENT_KIND_COUNT) - 1u)
/* What wanted_events 0 means, and the default: every kind but DATA_CHUNK (one line per
 * DATA_LINE event, as before DATA_CHUNK existed). */
#define POP3D_EVENTS_DEFAULT (POP3D_EVENTS_ALL & ~POP3D_EVENT_BIT(POP3D_EVENT_DATA_CHUNK))

/* DATA_CHUNK: multi-line data (RETR/TOP bodies, listings, CAPA, unknown data after a
 * mid-stream start) as one stream of bytes instead of one event per line. Delivered only when
 * asked for (POP3D_EVENT_BIT(POP3D_EVENT_DATA_CHUNK) in wanted_events).
 * - `data` holds the data lines exactly as the DATA_LINE events of those lines would hold
 *   them, concatenated: dot-unstuffed, each line with its own line end as on the wire, pieces
 *   of an over-long line as they are. The terminating "." line is not included (it is the
 *   DATA_END event). `line` is empty; there are no items, buffers or anomalies (the per-line
 *   ones, such as DATA_UNSTUFFED_DOT or LINE_TOO_LONG, come only with DATA_LINE events).
 * - `offset` and `length` are the stream range of the wire bytes of those lines (stuffed dots
 *   included): contiguous, so one chunk's range ends where the next one's begins.
 * - `request_id` and `command` name the command answered (0 and POP3D_CMD_NONE for unknown
 *   data after a mid-stream start).
 * - A chunk is a run of the answer's unstuffed bytes that lie one after the other in the
 *   bytes passed to one feed call: `data` points into the caller's buffer (no copy). So a
 *   feed call gives one chunk per answer, cut only where the bytes are not contiguous: a
 *   removed stuffing dot starts a new chunk, and so does another event in between (or a
 *   callback that stops the feed). A line cut across feed calls belongs wholly to the call
 *   that completes it (an over-long line: each max_line piece to the call that completes
 *   it); its bytes were held by the session meanwhile, so it comes as a chunk of its own.
 *   Concatenated, the chunks of an answer are exactly its concatenated DATA_LINE data,
 *   however the input was split; only where the chunks are cut depends on the split.
 * - Order: the chunk comes before DATA_END, any other event of the server direction, the
 *   END of finish, and before the call that delivered its lines returns.
 * - With both DATA_LINE and DATA_CHUNK wanted, both are delivered: each line's DATA_LINE
 *   event first, and the chunk covering those lines after them. */

/* Session states (RFC 1939 section 3): X(ID, name). */
#define POP3D_STATE_MAP(X)          \
  X(AUTHORIZATION, "AUTHORIZATION") \
  X(TRANSACTION, "TRANSACTION")     \
  X(UPDATE, "UPDATE")

typedef enum pop3d_state {
#define POP3D_X_ENUM(id, name) POP3D_STATE_##id,
  POP3D_STATE_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_STATE_COUNT
} pop3d_state;

/* The status indicator of a server line: X(ID, name). Non-standard indicators ("+ERR",
 * "-OK", lower case) count as ERR unless they are a form of "+OK". */
#define POP3D_INDICATOR_MAP(X) \
  X(NONE, "")                  \
  X(OK, "+OK")                 \
  X(ERR, "-ERR")

typedef enum pop3d_indicator {
#define POP3D_X_ENUM(id, name) POP3D_INDICATOR_##id,
  POP3D_INDICATOR_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_INDICATOR_COUNT
} pop3d_indicator;

/* Response codes (RFC 2449 section 8, RFC 3206, RFC 6856): X(ID, code, anomaly raised).
 * OTHER is any other code (its text is in the response); NONE is no code. */
/* clang-format off */
#define POP3D_RESPONSE_CODE_MAP(X)                                                                 \
  X(IN_USE, "IN-USE", RESPONSE_CODE_IN_USE)                                                        \
  X(LOGIN_DELAY, "LOGIN-DELAY", RESPONSE_CODE_LOGIN_DELAY)                                         \
  X(SYS_TEMP, "SYS/TEMP", RESPONSE_CODE_SYS_TEMP)                                                  \
  X(SYS_PERM, "SYS/PERM", RESPONSE_CODE_SYS_PERM)                                                  \
  X(AUTH, "AUTH", RESPONSE_CODE_AUTH)                                                              \
  X(UTF8, "UTF8", RESPONSE_CODE_UTF8)
/* clang-format on */

typedef enum pop3d_response_code {
  POP3D_RESPONSE_CODE_NONE = 0,
#define POP3D_X_ENUM(id, code, anomaly) POP3D_RESPONSE_CODE_##id,
  POP3D_RESPONSE_CODE_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_RESPONSE_CODE_OTHER,
  POP3D_RESPONSE_CODE_COUNT
} pop3d_response_code;

/* How a login ended: X(ID, name, description). The names are the values of the auth.result
 * item (and the plugin's pop3.auth.result). */
/* clang-format off */
#define POP3D_AUTH_RESULT_MAP(X)                                                                   \
  X(NONE, "none", "Not a login")                                                                   \
  X(SUCCESS, "success", "The server accepted the login (+OK)")                                     \
  X(FAILURE, "failure",                                                                            \
    "The server rejected the credentials (-ERR [AUTH], -ERR without a code, SASL failure)")        \
  X(REFUSED, "refused",                                                                            \
    "The server refused the login for another reason it named (IN-USE, LOGIN-DELAY, SYS/...)")     \
  X(CANCELLED, "cancelled", "The client cancelled the SASL exchange (\"*\")")                      \
  X(ABORTED, "aborted", "The connection ended before the server answered the login")
/* clang-format on */

typedef enum pop3d_auth_result {
#define POP3D_X_ENUM(id, name, desc) POP3D_AUTH_##id,
  POP3D_AUTH_RESULT_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_AUTH_RESULT_COUNT
} pop3d_auth_result;

/* ---------------------------------------------------------------------------------------------
 * Command table: X(ID, verb, min_args, max_args, arg1, arg2, states, capability, multiline)
 * One row per command the decoder knows; the parser, the session, both APIs and the plugin
 * read it. The pop3d_command value is the row's position + 1 (0 is NONE); append, never
 * renumber.
 * - max_args 255: the rest of the line is one argument (USER, PASS, XTND).
 * - Argument kinds (pop3d_arg_kind): NONE, TEXT, NAME (user name), SECRET (password), DIGEST
 *   (APOP digest), MESSAGE (message number, 1..count), LINES (TOP line count), MECHANISM (SASL
 *   mechanism), INITIAL_RESPONSE (base64 or "="), LANGUAGE (language tag or "*").
 * - States (POP3D_STATES_*): where RFC 1939 allows the command.
 * - Capability: what a CAPA answer must list for the command to be used (RFC 2449); "" none.
 * - Multi-line (pop3d_multiline): when a +OK to the command is followed by multi-line data.
 * ------------------------------------------------------------------------------------------- */
#define POP3D_STATES_AUTHORIZATION 0x1u
#define POP3D_STATES_TRANSACTION 0x2u
#define POP3D_STATES_ANY 0x3u

/* clang-format off */
#define POP3D_COMMAND_MAP(X)                                                                       \
  X(USER, "USER", 1, 255, NAME, NONE, AUTHORIZATION, "", NEVER)                                    \
  X(PASS, "PASS", 1, 255, SECRET, NONE, AUTHORIZATION, "", NEVER)                                  \
  X(APOP, "APOP", 2, 2, NAME, DIGEST, AUTHORIZATION, "", NEVER)                                    \
  X(AUTH, "AUTH", 0, 2, MECHANISM, INITIAL_RESPONSE, AUTHORIZATION, "", WITHOUT_ARGS)              \
  X(STAT, "STAT", 0, 0, NONE, NONE, TRANSACTION, "", NEVER)                                        \
  X(LIST, "LIST", 0, 1, MESSAGE, NONE, TRANSACTION, "", WITHOUT_ARGS)                              \
  X(RETR, "RETR", 1, 1, MESSAGE, NONE, TRANSACTION, "", ALWAYS)                                    \
  X(DELE, "DELE", 1, 1, MESSAGE, NONE, TRANSACTION, "", NEVER)                                     \
  X(NOOP, "NOOP", 0, 0, NONE, NONE, TRANSACTION, "", NEVER)                                        \
  X(RSET, "RSET", 0, 0, NONE, NONE, TRANSACTION, "", NEVER)                                        \
  X(QUIT, "QUIT", 0, 0, NONE, NONE, ANY, "", NEVER)                                                \
  X(TOP, "TOP", 2, 2, MESSAGE, LINES, TRANSACTION, "TOP", ALWAYS)                                  \
  X(UIDL, "UIDL", 0, 1, MESSAGE, NONE, TRANSACTION, "UIDL", WITHOUT_ARGS)                          \
  X(CAPA, "CAPA", 0, 0, NONE, NONE, ANY, "", ALWAYS)                                               \
  X(STLS, "STLS", 0, 0, NONE, NONE, AUTHORIZATION, "STLS", NEVER)                                  \
  X(UTF8, "UTF8", 0, 0, NONE, NONE, AUTHORIZATION, "UTF8", NEVER)                                  \
  X(LANG, "LANG", 0, 1, LANGUAGE, NONE, ANY, "LANG", WITHOUT_ARGS)                                 \
  X(LAST, "LAST", 0, 0, NONE, NONE, TRANSACTION, "", NEVER)                                        \
  X(XTND, "XTND", 1, 255, TEXT, NONE, TRANSACTION, "", NEVER)
/* clang-format on */

typedef enum pop3d_command {
  POP3D_CMD_NONE = 0,
#define POP3D_X_ENUM(id, verb, min, max, arg1, arg2, states, capa, multiline) POP3D_CMD_##id,
  POP3D_COMMAND_MAP(POP3D_X_ENUM)
#undef POP3D_X_ENUM
      POP3D_CMD_UNKNOWN,
  POP3D_CMD_COUNT
} pop3d_command;

typedef enum pop3d_arg_kind {
  POP3D_ARG_NONE = 0,
  POP3D_ARG_TEXT,
  POP3D_ARG_NAME,
  POP3D_ARG_SECRET,
  POP3D_ARG_DIGEST,
  POP3D_ARG_MESSAGE,
  POP3D_ARG_LINES,
  POP3D_ARG_MECHANISM,
  POP3D_ARG_INITIAL_RESPONSE,
  POP3D_ARG_LANGUAGE
} pop3d_arg_kind;

typedef enum pop3d_multiline {
  POP3D_MULTILINE_NEVER = 0,
  POP3D_MULTILINE_ALWAYS = 1,
  POP3D_MULTILINE_WITHOUT_ARGS = 2 /* multi-line when sent without arguments */
} pop3d_multiline;

/* Item flags */
#define POP3D_ITEM_GENERATED 0x1u /* not present in the bytes: derived (no position) */
#define POP3D_ITEM_SECRET 0x2u    /* a password or equivalent secret: mask it before showing */

/* One decoded field. Items of an event form a tree through `parent`.
 * Closed sets are enums on the item as well as text: response.indicator carries its
 * pop3d_indicator, session.state its pop3d_state and auth.result its pop3d_auth_result in
 * `number` (the text is the table's name). */
typedef struct pop3d_item {
  uint32_t field;      /* pop3d_field */
  int32_t parent;      /* index of the parent item in the same event, or -1 */
  uint32_t source;     /* 0: the event's stream; n > 0: the event's buffers[n - 1] */
  uint32_t flags;      /* POP3D_ITEM_* */
  uint64_t offset;     /* absolute stream offset (source 0) or offset in the buffer */
  uint64_t length;     /* bytes covered at that position (0 for generated items) */
  uint64_t number;     /* value of UINT and BOOL fields */
  const uint8_t* text; /* value of STRING and BYTES fields (borrowed; see header top) */
  size_t text_length;
  uint32_t type; /* pop3d_field_type of `field` (as pop3d_field_type_of gives it) */
} pop3d_item;

/* A decoded payload (base64-decoded SASL data) the items can point into. */
typedef struct pop3d_buffer {
  const uint8_t* data; /* borrowed until the callback returns */
  size_t length;
  uint64_t origin_offset; /* stream offset of the encoded text it was decoded from */
  uint64_t origin_length;
} pop3d_buffer;

typedef struct pop3d_anomaly_hit {
  uint32_t anomaly; /* pop3d_anomaly */
  uint64_t offset;  /* absolute stream offset in the event's direction */
  uint64_t length;
} pop3d_anomaly_hit;

/* Event flags */
/* The event's raw `line` carries a secret (a PASS command, a SASL line with a password or a
 * proof, an APOP digest): mask or drop the line before showing or logging it. The items that
 * hold the secret itself have POP3D_ITEM_SECRET. */
#define POP3D_EVENT_SECRET 0x1u

/* Transaction flags */
#define POP3D_TRANSACTION_UNANSWERED 0x1u /* the connection ended before any answer */
#define POP3D_TRANSACTION_CUT 0x2u        /* the answer was cut: gap, or multi-line data unended */
#define POP3D_TRANSACTION_MULTILINE 0x4u  /* the answer had multi-line data */
#define POP3D_TRANSACTION_MESSAGE 0x8u    /* `message` holds a message number argument */
#define POP3D_TRANSACTION_LINES 0x10u     /* `lines` holds TOP's line count */
#define POP3D_TRANSACTION_OCTETS 0x20u    /* `announced_octets` holds "+OK nnn octets" (RETR/TOP) */
#define POP3D_TRANSACTION_VERIFIED 0x40u  /* login checked against a known password: matched */
#define POP3D_TRANSACTION_MISMATCH 0x80u  /* login checked against a known password: no match */
/* The answer cannot be told: lost in a capture gap, or one of several answers after a loss
 * that could each be it. The transaction has no answer (indicator NONE, response_offset 0). */
#define POP3D_TRANSACTION_ANSWER_UNKNOWN 0x100u

/* A command and its complete answer (POP3D_EVENT_TRANSACTION). Text is borrowed like
 * everything in an event. Offsets are in the client (command) and server (response) streams. */
typedef struct pop3d_transaction {
  uint64_t request_id;      /* as pop3d_event.request_id */
  uint32_t command;         /* pop3d_command */
  uint32_t flags;           /* POP3D_TRANSACTION_* */
  uint64_t command_offset;  /* client stream offset of the command line */
  uint64_t response_offset; /* server stream offset of the status line (0 if unanswered) */
  uint64_t message;         /* message number (LIST, UIDL, RETR, DELE, TOP) */
  uint64_t lines;           /* TOP's line count */
  const uint8_t* argument;  /* the first argument that is no number and no secret: USER/APOP */
  size_t argument_length;   /* name, AUTH mechanism, LANG tag, XTND text; an unknown verb */
  uint32_t indicator;       /* pop3d_indicator (NONE when unanswered) */
  uint32_t response_code;   /* pop3d_response_code */
  const uint8_t* code;      /* response code text between the brackets (may be empty) */
  size_t code_length;
  const uint8_t* description; /* the status line's text after indicator and code */
  size_t description_length;
  uint64_t announced_octets; /* "+OK nnn octets" of RETR/TOP; STAT's maildrop size */
  uint64_t data_octets;      /* multi-line data: unstuffed octets, line ends included */
  uint64_t data_lines;       /* multi-line data: lines (the terminating "." excluded) */
  /* Logins (PASS, APOP, AUTH with a mechanism); auth_result is POP3D_AUTH_NONE otherwise. */
  uint32_t auth_result; /* pop3d_auth_result */
  uint32_t sasl_steps;
  const uint8_t* mechanism; /* "USER/PASS", "APOP" or the SASL mechanism (upper case) */
  size_t mechanism_length;
  const uint8_t* authcid; /* authentication identity: who proved the credentials */
  size_t authcid_length;
  const uint8_t* authzid; /* authorization identity: whose mailbox (empty if not given) */
  size_t authzid_length;
} pop3d_transaction;

typedef struct pop3d_event {
  uint32_t kind;       /* pop3d_event_kind */
  uint32_t direction;  /* pop3d_direction */
  uint64_t offset;     /* absolute stream offset of the first byte */
  uint64_t length;     /* bytes on the wire including the line end (0 for STATE, AUTH_RESULT) */
  const uint8_t* line; /* the line as on the wire, without its line end (borrowed) */
  size_t line_length;
  /* DATA_LINE: the line after dot-unstuffing, followed by its own line end as on the wire
   * (CRLF, or LF alone), which is what a mail dissector should see; pieces of an over-long
   * line have no line end but the last. Concatenated, the data of a response is the message
   * exactly as the server sent it. Borrowed like `line`. */
  const uint8_t* data;
  size_t data_length;
  uint64_t request_id; /* 1-based number of the command this belongs to; 0 if none */
  uint32_t command;    /* pop3d_command of that command (POP3D_CMD_NONE if none) */
  uint32_t piece;      /* 0 for whole lines; 1, 2, ... for pieces of an over-long line */
  const pop3d_item* items;
  size_t item_count;
  const pop3d_buffer* buffers;
  size_t buffer_count;
  const pop3d_anomaly_hit* anomalies;
  size_t anomaly_count;
  /* Appended: the fields above keep their offsets. */
  uint32_t flags; /* POP3D_EVENT_* */
  /* TRANSACTION events: the command and its answer; NULL for every other kind. */
  const pop3d_transaction* transaction;
} pop3d_event;

/* Called for each event. Return 0 to go on.
 *
 * Non-zero stops: the call that delivered the event returns POP3D_ERR_CALLBACK, and nothing
 * is lost:
 * - feed stops decoding at the end of the line that produced the event (bytes reported as
 *   they arrive, TLS and SKIPPED, are consumed whole). The number of bytes
 *   it decoded is returned through pop3d_session_feed2's *consumed (and is also how far
 *   pop3d_session_offset advanced); the caller feeds the rest (data + consumed) later, or not.
 * - The events of that same line (or of the same gap, or finish) that come after the stopping
 *   one are kept by the session, deep-copied, and delivered first by the next
 *   pop3d_session_resume, feed, feed2, gap or finish on it (to that call's callback; a NULL
 *   callback discards them). pop3d_session_held_events tells how many wait.
 * Fed that way, a session delivers exactly the events, in the same order, that it delivers
 * without stops.
 *
 * Re-entrancy: the callback must not call feed, feed2, gap, finish, resume, add_password or
 * clone on the session that called it: they return POP3D_ERR_REENTRANT (clone: NULL) and do
 * nothing; pop3d_session_free is ignored. Reading functions (state, tls, user, offset,
 * capabilities) may be called. Other sessions may be used freely. */
typedef int (*pop3d_event_callback)(void* user_data, const pop3d_event* event);

typedef struct pop3d_session pop3d_session;

typedef struct pop3d_options {
  size_t max_line;    /* longest line delivered whole; longer ones come in pieces (>= 64) */
  size_t max_pending; /* most outstanding commands remembered for matching (>= 1) */
  int mid_stream;     /* non-zero: the capture starts mid-conversation in both directions */
  int implicit_tls;   /* non-zero: the bytes fed are the plaintext inside TLS (port 995) */
  /* Appended. Events the callback wants: POP3D_EVENT_BIT(kind) ORed; 0 means
   * POP3D_EVENTS_DEFAULT (all but DATA_CHUNK).
   * Unwanted events are not built (a RETR body costs no event when DATA_LINE is not wanted);
   * the session decodes and tracks state exactly as with all events. */
  uint32_t wanted_events;
} pop3d_options;

/* Fills *options with the defaults (max_line 65536, max_pending 4096, mid_stream 0,
 * implicit_tls 0, wanted_events POP3D_EVENTS_DEFAULT).
 * After a +OK to STLS the session is in TLS: bytes fed next in a direction are taken as
 * TLS records (POP3D_EVENT_TLS) when they start like one (0x14-0x17 0x03), and otherwise as
 * the decrypted POP3 conversation, which is decoded as usual. */
POP3D_EXPORT void pop3d_options_init(pop3d_options* options) POP3D_NOEXCEPT;

/* Creates a session. options may be NULL for the defaults. Returns NULL only when out of
 * memory. Free it with pop3d_session_free. */
POP3D_EXPORT pop3d_session* pop3d_session_new(const pop3d_options* options) POP3D_NOEXCEPT;

/* A deep copy (for replaying a later frame from a saved state), held events included. NULL
 * if out of memory, session is NULL, or called from the session's own callback. */
POP3D_EXPORT pop3d_session* pop3d_session_clone(const pop3d_session* session) POP3D_NOEXCEPT;

/* Frees a session and what it holds. NULL is accepted. Ignored when called from the session's
 * own callback. */
POP3D_EXPORT void pop3d_session_free(pop3d_session* session) POP3D_NOEXCEPT;

/* Feeds bytes of one direction (the bytes are only read during the call). Held events (see
 * pop3d_event_callback) are delivered first, then the events of these bytes, through callback
 * (NULL: decode without delivering), before it returns.
 * *consumed (consumed may be NULL) receives how many of the `length` bytes were decoded:
 * all of them on POP3D_OK; on POP3D_ERR_CALLBACK those up to the end of the line whose event
 * stopped (0 if a held event stopped); 0 on any other status.
 * Returns:
 * - POP3D_OK;
 * - POP3D_ERR_INVALID_ARGUMENT: NULL session, NULL data with length > 0, direction not 0/1;
 * - POP3D_ERR_CALLBACK: the callback returned non-zero (see pop3d_event_callback);
 * - POP3D_ERR_REENTRANT: called from the session's own callback; nothing was done;
 * - POP3D_ERR_NO_MEMORY, POP3D_ERR_INTERNAL: decoding failed part-way. The session is then
 *   failed: every later feed, feed2, gap, finish and resume returns the same code and does
 *   nothing, clone gives a session in the same failed state; only the reading functions and
 *   free remain useful. */
POP3D_EXPORT int pop3d_session_feed2(pop3d_session* session, uint32_t direction,
                                     const uint8_t* data, size_t length,
                                     pop3d_event_callback callback, void* user_data,
                                     size_t* consumed) POP3D_NOEXCEPT;

/* pop3d_session_feed2 without *consumed (on POP3D_ERR_CALLBACK, pop3d_session_offset tells
 * how far decoding went). */
POP3D_EXPORT int pop3d_session_feed(pop3d_session* session, uint32_t direction, const uint8_t* data,
                                    size_t length, pop3d_event_callback callback,
                                    void* user_data) POP3D_NOEXCEPT;

/* The acknowledgement hint (see Session::set_peer_acknowledged in session.hpp): the bytes of
 * `direction` fed from now on were sent by a peer that had received `peer_offset` bytes of the
 * other direction (stream offset: bytes fed plus gaps), or POP3D_PEER_ACK_UNKNOWN. Stays in
 * effect until set again. With hints, capture loss never shifts the pairing of answers to
 * commands (README.md, "Pairing under capture loss"). The TCP follower (pop3d_tcp_*) sets it.
 * Returns POP3D_OK, POP3D_ERR_INVALID_ARGUMENT (NULL session, direction not 0/1) or
 * POP3D_ERR_REENTRANT (from the session's own callback; nothing was done). */
#define POP3D_PEER_ACK_UNKNOWN UINT64_MAX
POP3D_EXPORT int pop3d_session_set_peer_acked(pop3d_session* session, uint32_t direction,
                                              uint64_t peer_offset) POP3D_NOEXCEPT;

/* Reports `length` bytes lost in one direction (a capture gap): offsets advance and the
 * direction resynchronises at the next line boundary. Held events are delivered first. The gap
 * is always applied, whole, once: POP3D_ERR_CALLBACK means the callback stopped and events
 * (of earlier lines or of the gap) are held; pop3d_session_resume delivers them. Other return
 * codes as feed2. */
POP3D_EXPORT int pop3d_session_gap(pop3d_session* session, uint32_t direction, uint64_t length,
                                   pop3d_event_callback callback, void* user_data) POP3D_NOEXCEPT;

/* The connection ended: delivers held events, flushes partial lines and ends open exchanges
 * (END event). Like gap, always done once: on POP3D_ERR_CALLBACK, call pop3d_session_resume
 * until it returns POP3D_OK to receive the held rest. Other return codes as feed2. */
POP3D_EXPORT int pop3d_session_finish(pop3d_session* session, pop3d_event_callback callback,
                                      void* user_data) POP3D_NOEXCEPT;

/* Delivers the held events (see pop3d_event_callback) and decodes nothing. Returns POP3D_OK
 * when none remain (also when there were none), POP3D_ERR_CALLBACK when the callback stopped
 * again (the rest stay held), or POP3D_ERR_INVALID_ARGUMENT, POP3D_ERR_REENTRANT or the
 * failure of a failed session. */
POP3D_EXPORT int pop3d_session_resume(pop3d_session* session, pop3d_event_callback callback,
                                      void* user_data) POP3D_NOEXCEPT;

/* How many events a stop left held (0 for NULL). */
POP3D_EXPORT size_t pop3d_session_held_events(const pop3d_session* session) POP3D_NOEXCEPT;

/* Registers a known password for a user, so that APOP, CRAM-MD5, DIGEST-MD5 and SCRAM
 * exchanges are checked (auth.verified). Bytes are copied. Returns POP3D_OK,
 * POP3D_ERR_INVALID_ARGUMENT (a NULL pointer), POP3D_ERR_REENTRANT (from the session's own
 * callback) or POP3D_ERR_NO_MEMORY (the password was not added; the session is unchanged). */
POP3D_EXPORT int pop3d_session_add_password(pop3d_session* session, const char* user,
                                            size_t user_length, const char* password,
                                            size_t password_length) POP3D_NOEXCEPT;

/* Introspection. Invalid handles give 0 / POP3D_STATE_AUTHORIZATION. */
POP3D_EXPORT uint32_t pop3d_session_state(const pop3d_session* session) POP3D_NOEXCEPT;
POP3D_EXPORT int pop3d_session_tls(const pop3d_session* session) POP3D_NOEXCEPT;
POP3D_EXPORT int pop3d_session_gave_up(const pop3d_session* session) POP3D_NOEXCEPT;
/* Bytes fed so far in a direction: the stream offset the next fed byte will have. */
POP3D_EXPORT uint64_t pop3d_session_offset(const pop3d_session* session,
                                           uint32_t direction) POP3D_NOEXCEPT;
/* The authenticated (or last named) user; *length receives its size. The pointer is valid until
 * the next feed/gap/finish/free on this session. NULL with *length 0 if none. */
POP3D_EXPORT const char* pop3d_session_user(const pop3d_session* session,
                                            size_t* length) POP3D_NOEXCEPT;

/* What CAPA advertised, remembered per phase (RFC 2595: capabilities change after STLS, and
 * servers list more after login). phase: 0 before STLS and login, 1 after STLS, 2 after login
 * without TLS, 3 after STLS and login; -1 for the most recent CAPA answer of any phase.
 * Returns the index-th capability name (upper case; *length receives its size) or NULL past
 * the end or when that phase saw no CAPA. Valid until the next feed/gap/finish/free. */
POP3D_EXPORT const char* pop3d_session_capability(const pop3d_session* session, int phase,
                                                  size_t index, size_t* length) POP3D_NOEXCEPT;
/* The same for the SASL mechanisms of the SASL capability. */
POP3D_EXPORT const char* pop3d_session_sasl_mechanism(const pop3d_session* session, int phase,
                                                      size_t index, size_t* length) POP3D_NOEXCEPT;

/* Tables. Unknown ids give NULL / -1. Returned strings are static. */
POP3D_EXPORT const char* pop3d_anomaly_name(uint32_t anomaly) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_anomaly_description(uint32_t anomaly) POP3D_NOEXCEPT;
POP3D_EXPORT int pop3d_anomaly_severity(uint32_t anomaly) POP3D_NOEXCEPT;
POP3D_EXPORT int pop3d_anomaly_group_of(uint32_t anomaly) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_field_name(uint32_t field) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_field_description(uint32_t field) POP3D_NOEXCEPT;
POP3D_EXPORT int pop3d_field_type_of(uint32_t field) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_event_kind_name(uint32_t kind) POP3D_NOEXCEPT;
/* The command table: verb ("" for NONE, "(unknown)" for UNKNOWN), the command of a verb in any
 * case (POP3D_CMD_UNKNOWN if none; POP3D_CMD_NONE for ""), the POP3D_STATES_* where it is
 * allowed, the capability it needs ("" none), and whether a +OK to it sent with
 * `argument_count` arguments is followed by multi-line data (AUTH with no mechanism, LIST,
 * UIDL and LANG without arguments, RETR, TOP, CAPA). */
POP3D_EXPORT const char* pop3d_command_name(uint32_t command) POP3D_NOEXCEPT;
POP3D_EXPORT uint32_t pop3d_command_from_verb(const char* verb, size_t length) POP3D_NOEXCEPT;
POP3D_EXPORT uint32_t pop3d_command_states(uint32_t command) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_command_capability(uint32_t command) POP3D_NOEXCEPT;
POP3D_EXPORT int pop3d_command_multiline(uint32_t command, size_t argument_count) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_state_name(uint32_t state) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_indicator_name(uint32_t indicator) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_response_code_name(uint32_t response_code) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_auth_result_name(uint32_t auth_result) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_auth_result_description(uint32_t auth_result) POP3D_NOEXCEPT;
/* The version of the library linked at run time (which may be newer than the header the
 * program was compiled with): POP3D_VERSION_STRING and POP3D_VERSION_NUMBER of its build. */
POP3D_EXPORT const char* pop3d_version(void) POP3D_NOEXCEPT;
POP3D_EXPORT uint32_t pop3d_version_number(void) POP3D_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Credential verification (pure functions; all inputs borrowed for the call only).
 * Each returns 1 when the credential matches the password, 0 when it does not, and a negative
 * pop3d_status when the input cannot be checked (malformed digest, missing data).
 * ------------------------------------------------------------------------------------------- */
/* APOP: digest = hex(MD5(timestamp || password)); timestamp includes the angle brackets. */
POP3D_EXPORT int pop3d_verify_apop(const char* timestamp, size_t timestamp_length,
                                   const char* password, size_t password_length,
                                   const char* hex_digest, size_t hex_digest_length) POP3D_NOEXCEPT;
/* CRAM-MD5: digest = hex(HMAC-MD5(password, challenge)); challenge is the decoded text. */
POP3D_EXPORT int pop3d_verify_cram_md5(const char* challenge, size_t challenge_length,
                                       const char* password, size_t password_length,
                                       const char* hex_digest,
                                       size_t hex_digest_length) POP3D_NOEXCEPT;
/* DIGEST-MD5 (RFC 2831): response is the decoded client response (the directive list);
 * the nonce, cnonce, nc, qop, digest-uri, realm and username are read from it. */
POP3D_EXPORT int pop3d_verify_digest_md5(const char* client_response, size_t client_response_length,
                                         const char* password,
                                         size_t password_length) POP3D_NOEXCEPT;
/* SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, 7677): mechanism is the mechanism name; the three
 * messages are the decoded client-first, server-first and client-final messages. */
POP3D_EXPORT int pop3d_verify_scram(const char* mechanism, const char* client_first,
                                    size_t client_first_length, const char* server_first,
                                    size_t server_first_length, const char* client_final,
                                    size_t client_final_length, const char* password,
                                    size_t password_length) POP3D_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * POP URLs (RFC 2384): pop://<user>;auth=<auth>@<host>:<port>
 * ------------------------------------------------------------------------------------------- */
typedef struct pop3d_url pop3d_url;
/* Parses a URL. On success *out receives a handle to free with pop3d_url_free and POP3D_OK is
 * returned; otherwise POP3D_ERR_PARSE (or INVALID_ARGUMENT) and *out is NULL. */
POP3D_EXPORT int pop3d_url_parse(const char* url, size_t length, pop3d_url** out) POP3D_NOEXCEPT;
POP3D_EXPORT void pop3d_url_free(pop3d_url* url) POP3D_NOEXCEPT;
/* Percent-decoded parts; NUL-terminated; valid until pop3d_url_free. user and auth may be "". */
POP3D_EXPORT const char* pop3d_url_user(const pop3d_url* url) POP3D_NOEXCEPT;
POP3D_EXPORT const char* pop3d_url_auth(const pop3d_url* url)
    POP3D_NOEXCEPT; /* "*", "+APOP", mech, "" */
POP3D_EXPORT const char* pop3d_url_host(const pop3d_url* url) POP3D_NOEXCEPT;
POP3D_EXPORT uint16_t pop3d_url_port(const pop3d_url* url) POP3D_NOEXCEPT; /* 110 when absent */
/* The commands a client sends for the URL, CRLF-separated, NUL-terminated; valid until free. */
POP3D_EXPORT const char* pop3d_url_commands(const pop3d_url* url) POP3D_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * TCP conversation follower: feeds a pop3d_session from the TCP segments of one conversation in
 * capture order, putting them back in the conversation's true order (C++: pop3decode/tcp.hpp).
 * Same direction: retransmissions dropped, overlaps trimmed (the first copy wins; a differing
 * copy is reported as POP3D_TCP_NOTICE_OVERLAP_CONFLICT), segments after a hole wait for it.
 * Across directions: a segment whose acknowledgement number covers bytes of the other direction
 * not delivered yet waits for them, so an answer captured before its command is decoded after
 * it. FIN and RST act at their sequence position. Waiting bytes and segments are bounded; when a
 * bound is hit or the conversation ends, holes become pop3d_session_gap calls at their offsets.
 * Without SYN, the first start_segments segments of a direction are held to find its origin
 * (the lowest sequence number among them). Sequence numbers may wrap.
 * ------------------------------------------------------------------------------------------- */
typedef struct pop3d_tcp pop3d_tcp;

/* Segment flags: the TCP header's bit values. */
#define POP3D_TCP_FIN 0x01u
#define POP3D_TCP_SYN 0x02u
#define POP3D_TCP_RST 0x04u
#define POP3D_TCP_ACK 0x10u /* `ack` is meaningful */

typedef struct pop3d_tcp_segment {
  uint32_t direction;     /* pop3d_direction */
  uint32_t flags;         /* POP3D_TCP_* */
  uint32_t seq;           /* sequence number (of the SYN, when POP3D_TCP_SYN is set) */
  uint32_t ack;           /* acknowledgement number, when POP3D_TCP_ACK is set */
  const uint8_t* payload; /* borrowed for the call only */
  size_t payload_length;
  uint64_t tag; /* the caller's name for the segment (frame number, record index) */
} pop3d_tcp_segment;

/* Bytes a direction never showed but the other side acknowledged become a gap once 64 more
 * segments came without them (pop3decode::TcpOptions::loss_grace_segments; fixed here, the
 * struct's layout being part of the ABI). */
typedef struct pop3d_tcp_options {
  size_t max_buffered_bytes;    /* payload bytes waiting, both directions (default 1 MiB) */
  size_t max_buffered_segments; /* segment pieces waiting, both directions (default 1024) */
  uint32_t start_segments;      /* without SYN: segments held to find the origin (default 4) */
} pop3d_tcp_options;

typedef enum pop3d_tcp_report_kind {
  POP3D_TCP_CHUNK = 0,  /* bytes about to be fed to the session: its events follow */
  POP3D_TCP_GAP = 1,    /* bytes lost, about to be given to pop3d_session_gap */
  POP3D_TCP_FINISH = 2, /* the conversation ended; pop3d_session_finish follows */
  POP3D_TCP_NOTICE = 3  /* something the follower met (see pop3d_tcp_notice) */
} pop3d_tcp_report_kind;

/* Stable names: pop3d_tcp_notice_name. */
typedef enum pop3d_tcp_notice {
  POP3D_TCP_NOTICE_RETRANSMISSION = 0,    /* bytes already delivered came again (dropped) */
  POP3D_TCP_NOTICE_OVERLAP_CONFLICT = 1,  /* an overlapping copy differs (first copy kept) */
  POP3D_TCP_NOTICE_OUT_OF_WINDOW = 2,     /* far ahead of the stream (dropped) */
  POP3D_TCP_NOTICE_BEFORE_START = 3,      /* before the origin of a stream without SYN */
  POP3D_TCP_NOTICE_DATA_AFTER_FIN = 4,    /* payload beyond its direction's FIN (dropped) */
  POP3D_TCP_NOTICE_AFTER_END = 5,         /* a segment after the conversation ended */
  POP3D_TCP_NOTICE_ACK_UNMET = 6,         /* released without the bytes it acknowledges */
  POP3D_TCP_NOTICE_ACK_OUT_OF_WINDOW = 7, /* acknowledges far beyond the other direction */
  POP3D_TCP_NOTICE_SYN_MISMATCH = 8       /* a SYN disagreeing with the origin (ignored) */
} pop3d_tcp_notice;

#define POP3D_TCP_ACK_UNKNOWN UINT64_MAX

typedef struct pop3d_tcp_report {
  uint32_t kind;      /* pop3d_tcp_report_kind */
  uint32_t direction; /* pop3d_direction (CHUNK, GAP, NOTICE) */
  uint64_t offset;    /* stream offset of the bytes (CHUNK, GAP, NOTICE) */
  uint64_t length;    /* bytes concerned */
  /* CHUNK: the offset of the OTHER direction's stream that the sender had acknowledged when it
   * sent these bytes, or POP3D_TCP_ACK_UNKNOWN; never more than that direction's offset in the
   * session at this point, never decreasing within a direction. */
  uint64_t peer_acked;
  uint64_t tag;    /* CHUNK, NOTICE: the segment the bytes came from */
  uint32_t notice; /* NOTICE: pop3d_tcp_notice */
} pop3d_tcp_report;

/* Called for each report; return 0 to go on. Non-zero stops the callbacks (the call then
 * returns POP3D_ERR_CALLBACK and the follower and its session must be freed). */
typedef int (*pop3d_tcp_report_callback)(void* user_data, const pop3d_tcp_report* report);

POP3D_EXPORT void pop3d_tcp_options_init(pop3d_tcp_options* options) POP3D_NOEXCEPT;

/* A follower feeding `session`, which it borrows: the session must outlive the follower and
 * must not be fed directly while the follower is in use (pop3d_tcp_free does not free it).
 * options may be NULL for the defaults. NULL if session is NULL or out of memory. */
POP3D_EXPORT pop3d_tcp* pop3d_tcp_new(pop3d_session* session,
                                      const pop3d_tcp_options* options) POP3D_NOEXCEPT;
POP3D_EXPORT void pop3d_tcp_free(pop3d_tcp* tcp) POP3D_NOEXCEPT;

/* One segment in capture order. Session events go to event_callback, reports to
 * report_callback (either may be NULL); both with user_data, before the call returns. Returns
 * POP3D_OK, POP3D_ERR_INVALID_ARGUMENT (NULL tcp or segment, NULL payload with a length, bad
 * direction), POP3D_ERR_NO_MEMORY or POP3D_ERR_CALLBACK; after an error, free the follower and
 * its session. */
POP3D_EXPORT int pop3d_tcp_add(pop3d_tcp* tcp, const pop3d_tcp_segment* segment,
                               pop3d_event_callback event_callback,
                               pop3d_tcp_report_callback report_callback,
                               void* user_data) POP3D_NOEXCEPT;

/* The caller ends the conversation: waiting bytes are delivered, holes become gaps and the
 * session is finished (unless FINs or an RST already finished it). Same return codes. */
POP3D_EXPORT int pop3d_tcp_end(pop3d_tcp* tcp, pop3d_event_callback event_callback,
                               pop3d_tcp_report_callback report_callback,
                               void* user_data) POP3D_NOEXCEPT;

/* 1 once the session was finished (both FINs, an RST, or pop3d_tcp_end); 0 otherwise. */
POP3D_EXPORT int pop3d_tcp_ended(const pop3d_tcp* tcp) POP3D_NOEXCEPT;
/* Stream offset of the next byte the session will get in a direction (0 for bad arguments). */
POP3D_EXPORT uint64_t pop3d_tcp_offset(const pop3d_tcp* tcp, uint32_t direction) POP3D_NOEXCEPT;
/* The stream offset of sequence number `seq` of a direction (read within 2^31 of the next
 * expected byte), in *offset (may be NULL): 1, or 0 while that direction's origin is not fixed,
 * when seq lies before it, or for bad arguments. A caller that knows the sequence number of a
 * segment's first byte finds where a chunk of that segment lies within it. */
POP3D_EXPORT int pop3d_tcp_stream_offset(const pop3d_tcp* tcp, uint32_t direction, uint32_t seq,
                                         uint64_t* offset) POP3D_NOEXCEPT;
/* Payload bytes waiting (0 for NULL). */
POP3D_EXPORT size_t pop3d_tcp_buffered_bytes(const pop3d_tcp* tcp) POP3D_NOEXCEPT;
/* Static name of a pop3d_tcp_notice ("tcp_retransmission", ...), or NULL. */
POP3D_EXPORT const char* pop3d_tcp_notice_name(uint32_t notice) POP3D_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Decrypted payload follower: feeds a pop3d_session with the decrypted bytes of a TCP
 * conversation protected by TLS (implicit TLS, or after STLS), putting them in the
 * conversation's order across directions (C++: pop3decode::DecryptedFollower in
 * pop3decode/tcp.hpp). TLS decrypts each direction in order but hands the plaintext over in
 * capture order; a capture merged from two one-way taps can hold an answer before its command.
 * Give it every TCP segment of the conversation in capture order (pop3d_decrypted_segment:
 * position only) and, before that, each run of decrypted bytes TLS handed over on that segment
 * (pop3d_decrypted_add). A run waits while its segment acknowledges TCP bytes of the other
 * direction not seen yet or decrypted bytes of it still waiting, or while an earlier run of its
 * direction waits; it is fed when they came. Stream offsets go on from the session's offsets
 * when the follower is made; each chunk's acknowledgement hint is the other direction's
 * plaintext that its segment's acknowledgement covers. Waiting bytes and runs are bounded
 * (max_buffered_bytes, max_buffered_segments; past them the oldest run is fed with
 * POP3D_TCP_NOTICE_ACK_UNMET). It never finishes the session and gives no gaps.
 * Reports are pop3d_tcp_report: CHUNK (one per run; tag: the segment given with the run),
 * NOTICE (ACK_UNMET).
 * ------------------------------------------------------------------------------------------- */
typedef struct pop3d_decrypted pop3d_decrypted;

/* A follower feeding `session`, which it borrows (as pop3d_tcp_new; the session may have been
 * fed before, e.g. the cleartext up to STLS). options may be NULL; start_segments is unused.
 * NULL if session is NULL or out of memory. */
POP3D_EXPORT pop3d_decrypted* pop3d_decrypted_new(pop3d_session* session,
                                                  const pop3d_tcp_options* options) POP3D_NOEXCEPT;
POP3D_EXPORT void pop3d_decrypted_free(pop3d_decrypted* decrypted) POP3D_NOEXCEPT;
/* Where a direction's TCP stream stands as following begins (segments seen before it: the TLS
 * handshake, the cleartext before STLS): the sequence number of its next byte. Ignored once that
 * direction was seen. A direction neither started nor seen makes nothing wait. */
POP3D_EXPORT int pop3d_decrypted_start(pop3d_decrypted* decrypted, uint32_t direction,
                                       uint32_t next_seq) POP3D_NOEXCEPT;
/* `length` decrypted bytes (borrowed for the call) that TLS handed over on `segment`, whose
 * payload is not read: payload_length is its TCP payload length, flags, seq, ack and tag as for
 * pop3d_tcp_add. Call it for each run of the segment, then pop3d_decrypted_segment for it.
 * Returns as pop3d_tcp_add. */
POP3D_EXPORT int pop3d_decrypted_add(pop3d_decrypted* decrypted, const pop3d_tcp_segment* segment,
                                     const uint8_t* bytes, size_t length,
                                     pop3d_event_callback event_callback,
                                     pop3d_tcp_report_callback report_callback,
                                     void* user_data) POP3D_NOEXCEPT;
/* A TCP segment of the conversation, in capture order (payload not read; payload_length is its
 * TCP payload length): runs waiting for it are fed. Returns as pop3d_tcp_add. */
POP3D_EXPORT int pop3d_decrypted_segment(pop3d_decrypted* decrypted,
                                         const pop3d_tcp_segment* segment,
                                         pop3d_event_callback event_callback,
                                         pop3d_tcp_report_callback report_callback,
                                         void* user_data) POP3D_NOEXCEPT;
/* Feeds every waiting run (the conversation ends; the caller then finishes the session). */
POP3D_EXPORT int pop3d_decrypted_flush(pop3d_decrypted* decrypted,
                                       pop3d_event_callback event_callback,
                                       pop3d_tcp_report_callback report_callback,
                                       void* user_data) POP3D_NOEXCEPT;
/* Stream offset that the next decrypted bytes given to pop3d_decrypted_add in a direction will
 * have (0 for bad arguments). */
POP3D_EXPORT uint64_t pop3d_decrypted_offset(const pop3d_decrypted* decrypted,
                                             uint32_t direction) POP3D_NOEXCEPT;
/* 1 when what `direction` sent before TCP sequence number `seq` was all seen and its decrypted
 * bytes fed to the session (a segment acknowledging `seq` brings nothing from the other side
 * that is not decoded yet), or when that direction was neither started nor seen; else 0 (and
 * for bad arguments). */
POP3D_EXPORT int pop3d_decrypted_reached(const pop3d_decrypted* decrypted, uint32_t direction,
                                         uint32_t seq) POP3D_NOEXCEPT;
/* Decrypted bytes waiting (0 for NULL). */
POP3D_EXPORT size_t pop3d_decrypted_buffered_bytes(const pop3d_decrypted* decrypted) POP3D_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* POP3DECODE_H */
