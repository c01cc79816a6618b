/*
 * pop3log - one JSON line per POP3 transaction (a command and its complete answer) found in a
 * pcap or pcapng file.
 *
 *   pop3log [-p PORT]... [--show-secrets] [--no-notices] FILE
 *
 * Written in C against the C ABI (pop3decode.h) on purpose: that is the stable interface (one
 * SONAME per major version), it includes the TCP follower (pop3d_tcp_*), and it is what a
 * program in any language reaches through its FFI. libpcap is C as well.
 *
 * Each TCP conversation on a POP3 port goes through its own pop3d_tcp follower, which puts
 * the segments back in the conversation's order (retransmissions dropped, reordering undone,
 * holes given to the session as gaps). The session is asked only for the events this program
 * uses (pop3d_options.wanted_events): TRANSACTION for the output, and COMMAND and STATUS to
 * learn in which frame a command and its status line were completed. Multi-line data, SASL
 * lines and the rest are decoded (state is tracked exactly as with all events) but never
 * built as events.
 *
 * Output, one JSON object per line, in capture order:
 *   {"type":"transaction", ...}  a command and its answer (see print_transaction)
 *   {"type":"gap", ...}          bytes of a direction lost in the capture, at a stream offset
 *   {"type":"tcp_notice", ...}   what the follower met (retransmission, overlap conflict, ...)
 *   {"type":"truncated", ...}    a frame captured shorter than it was (a gap follows)
 * Strings are the bytes as seen: valid UTF-8 is kept, control characters are \u escaped, and
 * each byte that is not part of valid UTF-8 is written as the lone surrogate \udc80 + byte
 * (Python reads it back with errors="surrogateescape").
 * Frame numbers are 1-based record indexes of the file (Wireshark's frame.number).
 *
 * Limits: IP fragments are not reassembled (skipped); IPv6 extension headers other than
 * hop-by-hop, routing and destination options end the parse. Memory: each open conversation
 * holds its follower (at most 1 MiB of waiting payload by default) and session; an ended one
 * keeps a record of under 200 bytes until the end of the file.
 */
/* pcap.h uses the BSD types (u_char, u_int) that strict C modes hide. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3decode/pop3decode.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define MAX_PORTS 32
#define TIME_RING 2048 /* recent segments of a conversation whose timestamps are kept */

typedef struct config {
  uint16_t ports[MAX_PORTS];
  size_t port_count;
  int show_secrets;
  int notices;
} config;

typedef struct timestamp {
  int64_t sec;
  uint32_t nsec;
} timestamp;

/* What is known of a command until its TRANSACTION event. */
typedef struct pending {
  uint64_t request_id;
  uint64_t command_frame;
  timestamp command_time;
  uint64_t answer_frame; /* 0 until its status line came */
  timestamp answer_time;
  int has_command_time, has_answer_time;
  char* line; /* the command line (malloc'd), NULL when it is a secret not to be shown */
  size_t line_length;
  int secret;
} pending;

typedef struct endpoint_key {
  uint8_t family; /* 4 or 6 */
  uint8_t client_addr[16];
  uint8_t server_addr[16];
  uint16_t client_port;
  uint16_t server_port;
} endpoint_key;

typedef struct conversation {
  endpoint_key key;
  uint64_t number; /* 1-based, in order of first segment */
  pop3d_session* session;
  pop3d_tcp* tcp;
  int ended;
  int has_syn; /* the client's SYN was seen, with sequence number syn_seq */
  uint32_t syn_seq;
  const config* cfg;
  /* Frame attribution: the segment whose bytes the session is decoding, and the last segment
   * that gave bytes in each direction (a line flushed at the end was completed there). */
  int in_chunk;
  uint64_t chunk_tag;
  uint64_t last_tag[2]; /* 0: none yet */
  /* Timestamps of the last TIME_RING segments added (tags increase); allocated while the
   * conversation is decoded, so an ended one keeps only this small record. */
  uint64_t* ring_tag;
  timestamp* ring_time;
  size_t ring_next;
  size_t ring_count;
  pending* pendings;
  size_t pending_count;
  size_t pending_capacity;
  struct conversation* next_in_bucket;
} conversation;

typedef struct table {
  conversation** buckets;
  size_t bucket_count;
  size_t count;
  uint64_t numbered;
} table;

/* ---- JSON output ------------------------------------------------------------------------- */

static size_t utf8_sequence(const uint8_t* s, size_t n) {
  /* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0. */
  uint8_t c = s[0];
  size_t len;
  uint32_t min, cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    min = 0x80;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    min = 0x800;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    min = 0x10000;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

static void json_string(FILE* out, const uint8_t* s, size_t n) {
  fputc('"', out);
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    size_t len = utf8_sequence(s + i, n - i);
    if (len == 0) {
      fprintf(out, "\\udc%02x", (unsigned)(0x80u | c)); /* c >= 0x80 here */
      i++;
      continue;
    }
    if (len > 1) {
      fwrite(s + i, 1, len, out);
    } else if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
    } else if (c == '\n') {
      fputs("\\n", out);
    } else if (c == '\r') {
      fputs("\\r", out);
    } else if (c == '\t') {
      fputs("\\t", out);
    } else if (c < 0x20 || c == 0x7F) {
      fprintf(out, "\\u%04x", (unsigned)c);
    } else {
      fputc(c, out);
    }
    i += len;
  }
  fputc('"', out);
}

static void json_cstring(FILE* out, const char* s) {
  json_string(out, (const uint8_t*)s, strlen(s));
}

static void json_key(FILE* out, const char* key) {
  fprintf(out, ",\"%s\":", key);
}

static void json_time(FILE* out, timestamp t) {
  fprintf(out, "%" PRId64 ".%09" PRIu32, t.sec, t.nsec);
}

static void format_address(char* buf, size_t size, uint8_t family, const uint8_t* a) {
  if (family == 4) {
    snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    return;
  }
  /* RFC 5952: lower case, leading zeros dropped, the longest run (>= 2) of zero groups as ::. */
  unsigned groups[8];
  for (int i = 0; i < 8; i++) groups[i] = (unsigned)(a[2 * i] << 8 | a[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) j++;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < 8 && used < size; i++) {
    if (i == best) {
      used += (size_t)snprintf(buf + used, size - used, "::");
      i += best_len - 1;
      continue;
    }
    int colon = i > 0 && !(best >= 0 && i == best + best_len);
    used += (size_t)snprintf(buf + used, size - used, "%s%x", colon ? ":" : "", groups[i]);
  }
}

static void print_conversation(FILE* out, const conversation* c) {
  char client[64], server[64];
  format_address(client, sizeof client, c->key.family, c->key.client_addr);
  format_address(server, sizeof server, c->key.family, c->key.server_addr);
  fprintf(out, ",\"conversation\":%" PRIu64 ",\"client\":\"%s\",\"client_port\":%u", c->number,
          client, (unsigned)c->key.client_port);
  fprintf(out, ",\"server\":\"%s\",\"server_port\":%u", server, (unsigned)c->key.server_port);
}

static const char* direction_name(uint32_t direction) {
  return direction == POP3D_CLIENT_TO_SERVER ? "client_to_server" : "server_to_client";
}

/* ---- Frame attribution ------------------------------------------------------------------- */

static int time_of(const conversation* c, uint64_t tag, timestamp* t) {
  for (size_t k = 0; k < c->ring_count; k++) {
    size_t i = (c->ring_next + TIME_RING - 1 - k) % TIME_RING;
    if (c->ring_tag[i] == tag) {
      *t = c->ring_time[i];
      return 1;
    }
    if (c->ring_tag[i] < tag) break;
  }
  return 0;
}

static pending* find_pending(conversation* c, uint64_t request_id) {
  for (size_t i = 0; i < c->pending_count; i++)
    if (c->pendings[i].request_id == request_id) return &c->pendings[i];
  return NULL;
}

/* Forgets the commands up to request_id: transactions come oldest first, so an older one
 * still pending (a command the session could not match, see queue_overflow) never will be. */
static void drop_pendings_through(conversation* c, uint64_t request_id) {
  size_t kept = 0;
  for (size_t i = 0; i < c->pending_count; i++) {
    if (c->pendings[i].request_id <= request_id) {
      free(c->pendings[i].line);
    } else {
      c->pendings[kept++] = c->pendings[i];
    }
  }
  c->pending_count = kept;
}

static void note_command(conversation* c, const pop3d_event* e) {
  if (e->request_id == 0) return;
  if (c->pending_count == c->pending_capacity) {
    size_t capacity = c->pending_capacity ? c->pending_capacity * 2 : 16;
    pending* grown = realloc(c->pendings, capacity * sizeof *grown);
    if (!grown) return; /* the transaction is printed without its command frame */
    c->pendings = grown;
    c->pending_capacity = capacity;
  }
  pending* p = &c->pendings[c->pending_count++];
  memset(p, 0, sizeof *p);
  p->request_id = e->request_id;
  p->command_frame = c->last_tag[e->direction & 1];
  if (p->command_frame) p->has_command_time = time_of(c, p->command_frame, &p->command_time);
  p->secret = (e->flags & POP3D_EVENT_SECRET) != 0;
  if (!p->secret || c->cfg->show_secrets) {
    p->line = malloc(e->line_length ? e->line_length : 1);
    if (p->line) {
      if (e->line_length) memcpy(p->line, e->line, e->line_length);
      p->line_length = e->line_length;
    }
  }
}

static void note_status(conversation* c, const pop3d_event* e) {
  pending* p = find_pending(c, e->request_id);
  if (!p || !c->last_tag[e->direction & 1]) return;
  p->answer_frame = c->last_tag[e->direction & 1];
  p->has_answer_time = time_of(c, p->answer_frame, &p->answer_time);
}

/* ---- Transactions ------------------------------------------------------------------------ */

/* A transaction line: the conversation (number, client, client_port, server, server_port),
 * request_id, command (an unknown verb as sent, with "known":false), argument (user name,
 * mechanism, ...; never a secret), message, lines (TOP), secret (the command line carries a
 * password or proof) and line (the command line; left out when secret unless --show-secrets),
 * indicator (null when unanswered), response_code (the text between the brackets),
 * description, announced_octets (RETR/TOP "nnn octets", STAT's size), data_octets and
 * data_lines (multi-line answers), login {mechanism, authcid, authzid, result, sasl_steps,
 * verified}, the unanswered and cut flags, the stream offsets of command and answer, and
 * command_frame/command_time, answer_frame/answer_time (its status line) and end_frame (where
 * the answer was complete). A field that does not apply is left out. */
static void print_transaction(conversation* c, const pop3d_transaction* t) {
  FILE* out = stdout;
  pending* p = find_pending(c, t->request_id);
  fputs("{\"type\":\"transaction\"", out);
  print_conversation(out, c);
  fprintf(out, ",\"request_id\":%" PRIu64, t->request_id);
  /* An unknown verb is the command as sent; `argument` holds it. */
  int unknown = t->command == POP3D_CMD_UNKNOWN;
  json_key(out, "command");
  if (unknown)
    json_string(out, t->argument, t->argument_length);
  else
    json_cstring(out, pop3d_command_name(t->command));
  if (unknown) fputs(",\"known\":false", out);
  if (t->argument_length && !unknown) {
    json_key(out, "argument");
    json_string(out, t->argument, t->argument_length);
  }
  if (t->flags & POP3D_TRANSACTION_MESSAGE) fprintf(out, ",\"message\":%" PRIu64, t->message);
  if (t->flags & POP3D_TRANSACTION_LINES) fprintf(out, ",\"lines\":%" PRIu64, t->lines);
  if (p && p->secret) fputs(",\"secret\":true", out);
  if (p && p->line) {
    json_key(out, "line");
    json_string(out, (const uint8_t*)p->line, p->line_length);
  }
  json_key(out, "indicator");
  if (t->indicator == POP3D_INDICATOR_NONE)
    fputs("null", out);
  else
    json_cstring(out, pop3d_indicator_name(t->indicator));
  if (t->response_code != POP3D_RESPONSE_CODE_NONE) {
    json_key(out, "response_code");
    json_string(out, t->code, t->code_length);
  }
  if (t->indicator != POP3D_INDICATOR_NONE) {
    json_key(out, "description");
    json_string(out, t->description, t->description_length);
  }
  if ((t->flags & POP3D_TRANSACTION_OCTETS) ||
      (t->command == POP3D_CMD_STAT && t->indicator == POP3D_INDICATOR_OK))
    fprintf(out, ",\"announced_octets\":%" PRIu64, t->announced_octets);
  if (t->flags & POP3D_TRANSACTION_MULTILINE)
    fprintf(out, ",\"data_octets\":%" PRIu64 ",\"data_lines\":%" PRIu64, t->data_octets,
            t->data_lines);
  if (t->auth_result != POP3D_AUTH_NONE) {
    fputs(",\"login\":{\"mechanism\":", out);
    json_string(out, t->mechanism, t->mechanism_length);
    json_key(out, "authcid");
    json_string(out, t->authcid, t->authcid_length);
    if (t->authzid_length) {
      json_key(out, "authzid");
      json_string(out, t->authzid, t->authzid_length);
    }
    json_key(out, "result");
    json_cstring(out, pop3d_auth_result_name(t->auth_result));
    if (t->sasl_steps) fprintf(out, ",\"sasl_steps\":%" PRIu32, t->sasl_steps);
    if (t->flags & (POP3D_TRANSACTION_VERIFIED | POP3D_TRANSACTION_MISMATCH))
      fprintf(out, ",\"verified\":%s", t->flags & POP3D_TRANSACTION_VERIFIED ? "true" : "false");
    fputc('}', out);
  }
  fprintf(out, ",\"unanswered\":%s,\"cut\":%s",
          t->flags & POP3D_TRANSACTION_UNANSWERED ? "true" : "false",
          t->flags & POP3D_TRANSACTION_CUT ? "true" : "false");
  fprintf(out, ",\"command_offset\":%" PRIu64, t->command_offset);
  if (t->indicator != POP3D_INDICATOR_NONE)
    fprintf(out, ",\"response_offset\":%" PRIu64, t->response_offset);
  if (p && p->command_frame) {
    fprintf(out, ",\"command_frame\":%" PRIu64, p->command_frame);
    if (p->has_command_time) {
      fputs(",\"command_time\":", out);
      json_time(out, p->command_time);
    }
  }
  if (p && p->answer_frame) {
    fprintf(out, ",\"answer_frame\":%" PRIu64, p->answer_frame);
    if (p->has_answer_time) {
      fputs(",\"answer_time\":", out);
      json_time(out, p->answer_time);
    }
  }
  /* The frame that completed the answer (the end of multi-line data or of a SASL exchange);
   * absent when the conversation's end completed it. */
  if (c->in_chunk) fprintf(out, ",\"end_frame\":%" PRIu64, c->chunk_tag);
  fputs("}\n", out);
  drop_pendings_through(c, t->request_id);
}

static int on_event(void* user_data, const pop3d_event* e) {
  conversation* c = user_data;
  switch (e->kind) {
    case POP3D_EVENT_COMMAND: note_command(c, e); break;
    case POP3D_EVENT_STATUS: note_status(c, e); break;
    case POP3D_EVENT_TRANSACTION:
      if (e->transaction) print_transaction(c, e->transaction);
      break;
    default: break;
  }
  return 0;
}

static int on_report(void* user_data, const pop3d_tcp_report* r) {
  conversation* c = user_data;
  FILE* out = stdout;
  switch (r->kind) {
    case POP3D_TCP_CHUNK:
      c->in_chunk = 1;
      c->chunk_tag = r->tag;
      c->last_tag[r->direction & 1] = r->tag;
      break;
    case POP3D_TCP_GAP:
      c->in_chunk = 0;
      fputs("{\"type\":\"gap\"", out);
      print_conversation(out, c);
      fprintf(out, ",\"direction\":\"%s\",\"offset\":%" PRIu64 ",\"length\":%" PRIu64 "}\n",
              direction_name(r->direction), r->offset, r->length);
      break;
    case POP3D_TCP_FINISH: c->in_chunk = 0; break;
    case POP3D_TCP_NOTICE:
      if (!c->cfg->notices) break;
      fputs("{\"type\":\"tcp_notice\"", out);
      print_conversation(out, c);
      fprintf(out,
              ",\"notice\":\"%s\",\"direction\":\"%s\",\"offset\":%" PRIu64 ",\"length\":%" PRIu64
              ",\"frame\":%" PRIu64 "}\n",
              pop3d_tcp_notice_name(r->notice), direction_name(r->direction), r->offset, r->length,
              r->tag);
      break;
    default: break;
  }
  return 0;
}

/* ---- Conversations ----------------------------------------------------------------------- */

static uint64_t hash_key(const endpoint_key* k) {
  const uint8_t* b = (const uint8_t*)k;
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < sizeof *k; i++) h = (h ^ b[i]) * 1099511628211u;
  return h;
}

static conversation* find_conversation(table* t, const endpoint_key* k) {
  if (!t->bucket_count) return NULL;
  for (conversation* c = t->buckets[hash_key(k) % t->bucket_count]; c; c = c->next_in_bucket)
    if (memcmp(&c->key, k, sizeof *k) == 0) return c;
  return NULL;
}

static int grow_table(table* t) {
  size_t count = t->bucket_count ? t->bucket_count * 2 : 256;
  conversation** buckets = calloc(count, sizeof *buckets);
  if (!buckets) return 0;
  for (size_t i = 0; i < t->bucket_count; i++) {
    for (conversation* c = t->buckets[i]; c;) {
      conversation* next = c->next_in_bucket;
      size_t b = hash_key(&c->key) % count;
      c->next_in_bucket = buckets[b];
      buckets[b] = c;
      c = next;
    }
  }
  free(t->buckets);
  t->buckets = buckets;
  t->bucket_count = count;
  return 1;
}

static void release_decoder(conversation* c) {
  pop3d_tcp_free(c->tcp);
  pop3d_session_free(c->session);
  c->tcp = NULL;
  c->session = NULL;
  drop_pendings_through(c, UINT64_MAX);
  free(c->pendings);
  c->pendings = NULL;
  c->pending_capacity = 0;
  free(c->ring_tag);
  free(c->ring_time);
  c->ring_tag = NULL;
  c->ring_time = NULL;
}

/* (Re)starts the decoder of a conversation. */
static int start_decoder(table* t, conversation* c) {
  pop3d_options options;
  pop3d_options_init(&options);
  options.wanted_events = POP3D_EVENT_BIT(POP3D_EVENT_TRANSACTION) |
                          POP3D_EVENT_BIT(POP3D_EVENT_COMMAND) |
                          POP3D_EVENT_BIT(POP3D_EVENT_STATUS);
  c->session = pop3d_session_new(&options);
  c->tcp = c->session ? pop3d_tcp_new(c->session, NULL) : NULL;
  c->ring_tag = malloc(TIME_RING * sizeof *c->ring_tag);
  c->ring_time = malloc(TIME_RING * sizeof *c->ring_time);
  if (!c->tcp || !c->ring_tag || !c->ring_time) {
    release_decoder(c);
    return 0;
  }
  c->number = ++t->numbered;
  c->ended = 0;
  c->has_syn = 0;
  c->in_chunk = 0;
  c->last_tag[0] = c->last_tag[1] = 0;
  c->ring_count = 0;
  c->ring_next = 0;
  return 1;
}

static conversation* add_conversation(table* t, const endpoint_key* k, const config* cfg) {
  if (t->count >= t->bucket_count && !grow_table(t)) return NULL;
  conversation* c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->key = *k;
  c->cfg = cfg;
  if (!start_decoder(t, c)) {
    free(c);
    return NULL;
  }
  size_t b = hash_key(k) % t->bucket_count;
  c->next_in_bucket = t->buckets[b];
  t->buckets[b] = c;
  t->count++;
  return c;
}

static void fail(conversation* c, const char* what, int status) {
  fprintf(stderr, "pop3log: conversation %" PRIu64 ": %s: %s\n", c->number, what,
          pop3d_status_name(status));
  release_decoder(c);
  c->ended = 1;
}

static void end_conversation(conversation* c) {
  if (!c->tcp) return;
  int status = pop3d_tcp_end(c->tcp, on_event, on_report, c);
  if (status != POP3D_OK) {
    fail(c, "end", status);
    return;
  }
  release_decoder(c);
  c->ended = 1;
}

/* ---- Packets ----------------------------------------------------------------------------- */

typedef struct tcp_packet {
  endpoint_key key;
  pop3d_tcp_segment segment;
  int truncated; /* payload cut by the capture's snapshot length */
} tcp_packet;

static uint16_t be16(const uint8_t* p) {
  return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const uint8_t* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_pop3_port(const config* cfg, uint16_t port) {
  for (size_t i = 0; i < cfg->port_count; i++)
    if (cfg->ports[i] == port) return 1;
  return 0;
}

/* Finds the network header: *ethertype and its offset. 0 when the frame is not IP. */
static int link_layer(int dlt, const uint8_t* f, size_t n, uint16_t* ethertype, size_t* at) {
  size_t pos;
  uint16_t type;
  switch (dlt) {
    case DLT_EN10MB:
      if (n < 14) return 0;
      type = be16(f + 12);
      pos = 14;
      break;
    case DLT_LINUX_SLL:
      if (n < 16) return 0;
      type = be16(f + 14);
      pos = 16;
      break;
    case DLT_LINUX_SLL2:
      if (n < 20) return 0;
      type = be16(f);
      pos = 20;
      break;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      if (n < 1) return 0;
      type = (f[0] >> 4) == 4 ? 0x0800 : 0x86DD;
      pos = 0;
      break;
    case DLT_NULL:
    case DLT_LOOP:
      if (n < 5) return 0;
      type = (f[4] >> 4) == 4 ? 0x0800 : 0x86DD;
      pos = 4;
      break;
    default: return 0;
  }
  /* 802.1Q and 802.1ad tags (Ethernet, and cooked captures of tagged frames). */
  while ((type == 0x8100 || type == 0x88A8 || type == 0x9100) && n >= pos + 4) {
    type = be16(f + pos + 2);
    pos += 4;
  }
  *ethertype = type;
  *at = pos;
  return 1;
}

/* Parses one frame into a TCP segment between a client and a POP3 port. 0 when it is not. */
static int parse_packet(const config* cfg, int dlt, const uint8_t* f, size_t n, tcp_packet* p) {
  uint16_t ethertype;
  size_t ip;
  if (!link_layer(dlt, f, n, &ethertype, &ip)) return 0;
  uint8_t family;
  const uint8_t *src, *dst;
  size_t tcp, end; /* offsets of the TCP header and of the end of the IP packet */
  if (ethertype == 0x0800) {
    if (n < ip + 20 || (f[ip] >> 4) != 4) return 0;
    size_t ihl = (size_t)(f[ip] & 0x0F) * 4;
    if (ihl < 20 || f[ip + 9] != 6) return 0;
    if (be16(f + ip + 6) & 0x3FFF) return 0; /* a fragment: not reassembled here */
    family = 4;
    src = f + ip + 12;
    dst = f + ip + 16;
    tcp = ip + ihl;
    /* Total length 0: a segment captured before TCP segmentation offload split it. */
    end = be16(f + ip + 2) ? ip + be16(f + ip + 2) : n;
  } else if (ethertype == 0x86DD) {
    if (n < ip + 40 || (f[ip] >> 4) != 6) return 0;
    family = 6;
    src = f + ip + 8;
    dst = f + ip + 24;
    end = ip + 40 + be16(f + ip + 4);
    uint8_t next = f[ip + 6];
    tcp = ip + 40;
    /* Hop-by-hop, routing and destination options headers; a fragment header ends it. */
    while (next == 0 || next == 43 || next == 60) {
      if (n < tcp + 8) return 0;
      next = f[tcp];
      tcp += ((size_t)f[tcp + 1] + 1) * 8;
    }
    if (next != 6) return 0;
  } else {
    return 0;
  }
  if (n < tcp + 20) return 0;
  size_t header = (size_t)(f[tcp + 12] >> 4) * 4;
  if (header < 20 || end < tcp + header) return 0;
  uint16_t sport = be16(f + tcp), dport = be16(f + tcp + 2);
  memset(p, 0, sizeof *p);
  p->key.family = family;
  size_t alen = family == 4 ? 4 : 16;
  if (is_pop3_port(cfg, dport)) {
    p->segment.direction = POP3D_CLIENT_TO_SERVER;
    memcpy(p->key.client_addr, src, alen);
    memcpy(p->key.server_addr, dst, alen);
    p->key.client_port = sport;
    p->key.server_port = dport;
  } else if (is_pop3_port(cfg, sport)) {
    p->segment.direction = POP3D_SERVER_TO_CLIENT;
    memcpy(p->key.client_addr, dst, alen);
    memcpy(p->key.server_addr, src, alen);
    p->key.client_port = dport;
    p->key.server_port = sport;
  } else {
    return 0;
  }
  uint8_t flags = f[tcp + 13];
  p->segment.flags = flags & (POP3D_TCP_FIN | POP3D_TCP_SYN | POP3D_TCP_RST | POP3D_TCP_ACK);
  p->segment.seq = be32(f + tcp + 4);
  p->segment.ack = be32(f + tcp + 8);
  size_t payload = tcp + header;
  /* The IP length, not the frame's, bounds the payload (Ethernet pads short frames). */
  size_t payload_end = end;
  if (payload_end > n) {
    payload_end = n;
    p->truncated = 1;
  }
  if (payload > payload_end) payload = payload_end;
  p->segment.payload = f + payload;
  p->segment.payload_length = payload_end - payload;
  return 1;
}

static void add_segment(table* t, const config* cfg, tcp_packet* p, uint64_t frame,
                        timestamp when) {
  conversation* c = find_conversation(t, &p->key);
  int syn_only = (p->segment.flags & (POP3D_TCP_SYN | POP3D_TCP_ACK)) == POP3D_TCP_SYN;
  if (!c) {
    c = add_conversation(t, &p->key, cfg);
    if (!c) {
      fprintf(stderr, "pop3log: out of memory\n");
      exit(2);
    }
  } else if (c->ended || (syn_only && p->segment.direction == POP3D_CLIENT_TO_SERVER &&
                          (c->has_syn ? p->segment.seq != c->syn_seq
                                      : pop3d_tcp_offset(c->tcp, POP3D_CLIENT_TO_SERVER) > 0))) {
    /* Segments after the end (late ACKs, retransmitted FINs) are dropped. A new SYN on the
     * same addresses and ports starts a new conversation, also when the previous one was
     * never seen to end (the ports were reused). */
    if (!syn_only) return;
    if (!c->ended) end_conversation(c);
    if (!start_decoder(t, c)) {
      fprintf(stderr, "pop3log: out of memory\n");
      exit(2);
    }
  }
  if (syn_only && p->segment.direction == POP3D_CLIENT_TO_SERVER && !c->has_syn) {
    c->has_syn = 1;
    c->syn_seq = p->segment.seq;
  }
  size_t i = c->ring_next;
  c->ring_tag[i] = frame;
  c->ring_time[i] = when;
  c->ring_next = (i + 1) % TIME_RING;
  if (c->ring_count < TIME_RING) c->ring_count++;
  if (p->truncated) {
    fputs("{\"type\":\"truncated\"", stdout);
    print_conversation(stdout, c);
    fprintf(stdout, ",\"direction\":\"%s\",\"frame\":%" PRIu64 "}\n",
            direction_name(p->segment.direction), frame);
  }
  p->segment.tag = frame;
  int status = pop3d_tcp_add(c->tcp, &p->segment, on_event, on_report, c);
  if (status != POP3D_OK) {
    fail(c, "segment", status);
    return;
  }
  if (pop3d_tcp_ended(c->tcp)) {
    release_decoder(c);
    c->ended = 1;
  }
}

static void free_table(table* t) {
  for (size_t i = 0; i < t->bucket_count; i++) {
    for (conversation* c = t->buckets[i]; c;) {
      conversation* next = c->next_in_bucket;
      release_decoder(c);
      free(c);
      c = next;
    }
  }
  free(t->buckets);
}

static int by_number(const void* a, const void* b) {
  uint64_t x = (*(conversation*const*)a)->number, y = (*(conversation*const*)b)->number;
  return x < y ? -1 : x > y;
}

/* Ends the conversations still open, in the order they started. */
static void end_all(table* t) {
  conversation** open = malloc((t->count ? t->count : 1) * sizeof *open);
  size_t n = 0;
  for (size_t i = 0; i < t->bucket_count; i++)
    for (conversation* c = t->buckets[i]; c; c = c->next_in_bucket)
      if (!c->ended) {
        if (open)
          open[n++] = c;
        else
          end_conversation(c);
      }
  if (!open) return;
  qsort(open, n, sizeof *open, by_number);
  for (size_t i = 0; i < n; i++) end_conversation(open[i]);
  free(open);
}

/* ---- Main -------------------------------------------------------------------------------- */

static void usage(FILE* out) {
  fputs(
      "usage: pop3log [-p PORT]... [--show-secrets] [--no-notices] FILE\n"
      "Writes one JSON line per POP3 transaction of a pcap or pcapng file (FILE '-' is\n"
      "standard input), plus lines for gaps and TCP notices.\n"
      "  -p, --port PORT   a POP3 server port (repeat for more; default 110)\n"
      "  --show-secrets    include command lines that carry a password or a proof\n"
      "  --no-notices      leave out the follower's notices (retransmissions, ...)\n",
      out);
}

static int parse_port(const char* s, uint16_t* port) {
  char* end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v == 0 || v > 65535) return 0;
  *port = (uint16_t)v;
  return 1;
}

int main(int argc, char** argv) {
  config cfg = {.port_count = 0, .show_secrets = 0, .notices = 1};
  const char* path = NULL;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) {
      if (i + 1 >= argc || cfg.port_count == MAX_PORTS ||
          !parse_port(argv[i + 1], &cfg.ports[cfg.port_count])) {
        fprintf(stderr, "pop3log: %s needs a port number (1-65535)\n", a);
        return 2;
      }
      cfg.port_count++;
      i++;
    } else if (strcmp(a, "--show-secrets") == 0) {
      cfg.show_secrets = 1;
    } else if (strcmp(a, "--no-notices") == 0) {
      cfg.notices = 0;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "pop3log: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else if (path) {
      usage(stderr);
      return 2;
    } else {
      path = a;
    }
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  if (cfg.port_count == 0) cfg.ports[cfg.port_count++] = 110;

  char error[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, error);
  if (!pcap) {
    fprintf(stderr, "pop3log: %s\n", error);
    return 1;
  }
  int dlt = pcap_datalink(pcap);
  switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP: break;
    default:
      fprintf(stderr, "pop3log: link type %s (%d) is not supported\n",
              pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?", dlt);
      pcap_close(pcap);
      return 1;
  }

  table conversations = {0};
  struct pcap_pkthdr* header;
  const u_char* data;
  uint64_t frame = 0;
  int rc;
  while ((rc = pcap_next_ex(pcap, &header, &data)) == 1) {
    frame++;
    tcp_packet p;
    if (!parse_packet(&cfg, dlt, data, header->caplen, &p)) continue;
    timestamp when = {(int64_t)header->ts.tv_sec, (uint32_t)header->ts.tv_usec};
    add_segment(&conversations, &cfg, &p, frame, when);
  }
  int status = 0;
  if (rc == PCAP_ERROR) {
    /* A file cut short: what was read is still decoded and reported. */
    fprintf(stderr, "pop3log: %s: %s\n", path, pcap_geterr(pcap));
    status = 1;
  }
  end_all(&conversations);
  free_table(&conversations);
  pcap_close(pcap);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "pop3log: write error\n");
    status = 1;
  }
  return status;
}
