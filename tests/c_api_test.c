/* Compiles pop3decode.h as C (C99) and drives a session through the C ABI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3decode/pop3decode.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

struct seen {
  int commands, statuses, data_lines, auth_results, states, stops_after;
  int saw_user_field, saw_password_secret, saw_capa_sasl, saw_in_use, events;
  char last_command[16];
  unsigned long long last_request;
};

static int text_is(const pop3d_item* item, const char* text) {
  return item->text_length == strlen(text) && memcmp(item->text, text, item->text_length) == 0;
}

static int on_event(void* user_data, const pop3d_event* event) {
  struct seen* s = (struct seen*)user_data;
  size_t i;
  ++s->events;
  for (i = 0; i < event->item_count; ++i) {
    const pop3d_item* item = &event->items[i];
    CHECK(item->field < POP3D_FIELD_COUNT);
    CHECK(item->parent < (int32_t)i);
    CHECK(item->type == (uint32_t)pop3d_field_type_of(item->field));
    if (item->field == POP3D_FIELD_AUTH_USERNAME && text_is(item, "alice")) s->saw_user_field = 1;
    if (item->field == POP3D_FIELD_AUTH_PASSWORD && (item->flags & POP3D_ITEM_SECRET))
      s->saw_password_secret = 1;
    if (item->field == POP3D_FIELD_CAPA_SASL_MECHANISM && text_is(item, "PLAIN"))
      s->saw_capa_sasl = 1;
  }
  for (i = 0; i < event->anomaly_count; ++i)
    if (event->anomalies[i].anomaly == POP3D_ANOMALY_RESPONSE_CODE_IN_USE) s->saw_in_use = 1;
  switch (event->kind) {
    case POP3D_EVENT_COMMAND:
      ++s->commands;
      s->last_request = event->request_id;
      if (event->item_count > 1 && event->items[1].text_length < sizeof s->last_command) {
        memcpy(s->last_command, event->items[1].text, event->items[1].text_length);
        s->last_command[event->items[1].text_length] = '\0';
      }
      break;
    case POP3D_EVENT_STATUS: ++s->statuses; break;
    case POP3D_EVENT_DATA_LINE: ++s->data_lines; break;
    case POP3D_EVENT_AUTH_RESULT: ++s->auth_results; break;
    case POP3D_EVENT_STATE: ++s->states; break;
    default: break;
  }
  if (s->stops_after && s->events >= s->stops_after) return 1;
  return 0;
}

static int item_text_is(const pop3d_event* event, uint32_t field, const char* text) {
  size_t i;
  for (i = 0; i < event->item_count; ++i)
    if (event->items[i].field == field && text_is(&event->items[i], text)) return 1;
  return 0;
}

static int on_sasl_event(void* user_data, const pop3d_event* event) {
  struct sasl_counts {
    int challenge, username, verified, result_success;
  }* s = (struct sasl_counts*)user_data;
  size_t i;
  if (event->kind == POP3D_EVENT_SASL_SERVER &&
      item_text_is(event, POP3D_FIELD_SASL_CRAM_CHALLENGE,
                   "<1896.697170952@postoffice.reston.mci.net>")) {
    /* The decoded payload is a buffer; the challenge item points into it. */
    CHECK(event->buffer_count == 1);
    s->challenge++;
  }
  if (event->kind == POP3D_EVENT_SASL_CLIENT &&
      item_text_is(event, POP3D_FIELD_SASL_CRAM_USERNAME, "tim"))
    s->username++;
  if (event->kind == POP3D_EVENT_AUTH_RESULT) {
    if (item_text_is(event, POP3D_FIELD_AUTH_RESULT, "success")) s->result_success++;
    for (i = 0; i < event->item_count; ++i)
      if (event->items[i].field == POP3D_FIELD_AUTH_VERIFIED && event->items[i].number == 1)
        s->verified++;
  }
  return 0;
}

/* Transactions through the C ABI: a transaction-only consumer. */
struct tx_seen {
  int transactions, other_events, refused, unanswered, secret_lines;
  unsigned long long retr_octets, retr_lines, retr_message;
};

static int on_transaction(void* user_data, const pop3d_event* event) {
  struct tx_seen* s = (struct tx_seen*)user_data;
  const pop3d_transaction* t = event->transaction;
  if (event->flags & POP3D_EVENT_SECRET) s->secret_lines++;
  if (event->kind != POP3D_EVENT_TRANSACTION) {
    CHECK(t == NULL);
    s->other_events++;
    return 0;
  }
  CHECK(t != NULL);
  if (t == NULL) return 1;
  s->transactions++;
  CHECK(t->request_id == event->request_id && t->command == event->command);
  if (t->command == POP3D_CMD_RETR) {
    CHECK(t->indicator == POP3D_INDICATOR_OK);
    CHECK(t->flags & POP3D_TRANSACTION_MESSAGE);
    CHECK(t->flags & POP3D_TRANSACTION_MULTILINE);
    s->retr_message = t->message;
    s->retr_octets = t->announced_octets;
    s->retr_lines = t->data_lines;
  }
  if (t->command == POP3D_CMD_PASS && t->auth_result == POP3D_AUTH_REFUSED) {
    CHECK(t->response_code == POP3D_RESPONSE_CODE_IN_USE);
    CHECK(t->code_length == 6 && memcmp(t->code, "IN-USE", 6) == 0);
    s->refused++;
  }
  if (t->flags & POP3D_TRANSACTION_UNANSWERED) {
    CHECK(t->indicator == POP3D_INDICATOR_NONE);
    s->unanswered++;
  }
  return 0;
}

/* ---- stop and resume ----------------------------------------------------------------------
 * An event log: every field of every event, bytes included, so that two runs compare exactly. */
struct event_log {
  char* bytes;
  size_t length, capacity;
  int events;
};

static void log_append(struct event_log* log, const void* bytes, size_t length) {
  if (log->length + length > log->capacity) {
    size_t capacity = log->capacity ? log->capacity : 4096;
    while (log->length + length > capacity) capacity *= 2;
    log->bytes = (char*)realloc(log->bytes, capacity);
    if (log->bytes == NULL) abort();
    log->capacity = capacity;
  }
  if (length) memcpy(log->bytes + log->length, bytes, length);
  log->length += length;
}

static void log_number(struct event_log* log, unsigned long long number) {
  char text[32];
  int n = snprintf(text, sizeof text, "%llu,", number);
  log_append(log, text, (size_t)n);
}

static void log_bytes(struct event_log* log, const uint8_t* bytes, size_t length) {
  log_number(log, length);
  log_append(log, bytes, length);
}

static void log_event(struct event_log* log, const pop3d_event* e) {
  size_t i;
  ++log->events;
  log_number(log, e->kind);
  log_number(log, e->direction);
  log_number(log, e->offset);
  log_number(log, e->length);
  log_bytes(log, e->line, e->line_length);
  log_bytes(log, e->data, e->data_length);
  log_number(log, e->request_id);
  log_number(log, e->command);
  log_number(log, e->piece);
  log_number(log, e->item_count);
  for (i = 0; i < e->item_count; ++i) {
    const pop3d_item* item = &e->items[i];
    log_number(log, item->field);
    log_number(log, (unsigned long long)(item->parent + 1));
    log_number(log, item->source);
    log_number(log, item->flags);
    log_number(log, item->offset);
    log_number(log, item->length);
    log_number(log, item->number);
    log_bytes(log, item->text, item->text_length);
  }
  log_number(log, e->buffer_count);
  for (i = 0; i < e->buffer_count; ++i) {
    log_bytes(log, e->buffers[i].data, e->buffers[i].length);
    log_number(log, e->buffers[i].origin_offset);
    log_number(log, e->buffers[i].origin_length);
  }
  log_number(log, e->anomaly_count);
  for (i = 0; i < e->anomaly_count; ++i) {
    log_number(log, e->anomalies[i].anomaly);
    log_number(log, e->anomalies[i].offset);
    log_number(log, e->anomalies[i].length);
  }
  log_append(log, "\n", 1);
}

/* Stops at the events numbered in [stop_from, stop_to] (1-based, counted over the run). */
struct stopper {
  struct event_log log;
  int stop_from, stop_to, stops;
};

static int on_event_stopping(void* user_data, const pop3d_event* event) {
  struct stopper* st = (struct stopper*)user_data;
  log_event(&st->log, event);
  if (st->log.events >= st->stop_from && st->log.events <= st->stop_to) {
    ++st->stops;
    return 1;
  }
  return 0;
}

/* A conversation with every kind of unit: greeting, commands, multi-line data with a stuffed
 * dot, SASL with decoded buffers, several events from one line (PASS: status, state, auth
 * result), a gap, pipelined commands, and a partial line left for finish. Steps are fed in
 * order; a step of length 0 with gap > 0 is a gap. */
struct step {
  uint32_t direction;
  const char* text;
  uint64_t gap;
};

static const struct step conversation[] = {
    {POP3D_SERVER_TO_CLIENT, "+OK ready <1.2@host>\r\n", 0},
    {POP3D_CLIENT_TO_SERVER, "CAPA\r\nUSER alice\r\nPASS wonderland\r\n", 0},
    {POP3D_SERVER_TO_CLIENT, "+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n+OK\r\n-ERR [AUTH] no\r\n", 0},
    {POP3D_CLIENT_TO_SERVER, "AUTH PLAIN\r\n", 0},
    {POP3D_SERVER_TO_CLIENT, "+ \r\n", 0},
    {POP3D_CLIENT_TO_SERVER, "AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", 0},
    {POP3D_SERVER_TO_CLIENT, "+OK logged in\r\n", 0},
    {POP3D_CLIENT_TO_SERVER, "LIST\r\nRETR 1\r\nNOOP\r\n", 0},
    {POP3D_SERVER_TO_CLIENT, "+OK 1 messages\r\n1 120\r\n.\r\n+OK 120 octets\r\nSubject: x\r\n", 0},
    {POP3D_SERVER_TO_CLIENT, "\r\n..stuffed\r\nbody\r\n.\r\n+OK\r\n", 0},
    {POP3D_CLIENT_TO_SERVER, NULL, 7},
    {POP3D_CLIENT_TO_SERVER, "tail\r\nSTAT\r\n", 0},
    {POP3D_SERVER_TO_CLIENT, "+OK 1 120\r\n", 0},
    {POP3D_CLIENT_TO_SERVER, "QUIT\r\nQU", 0},
};

/* Feeds the conversation; after each stop, goes on as the header says: feed the bytes not
 * consumed, and after gap or finish resume until nothing is held. */
static void run_conversation(struct stopper* st, int use_feed2) {
  pop3d_session* session = pop3d_session_new(NULL);
  size_t k;
  int rc;
  for (k = 0; k < sizeof conversation / sizeof conversation[0]; ++k) {
    const struct step* step = &conversation[k];
    if (step->text == NULL) {
      rc = pop3d_session_gap(session, step->direction, step->gap, on_event_stopping, st);
      while (rc == POP3D_ERR_CALLBACK) rc = pop3d_session_resume(session, on_event_stopping, st);
      CHECK(rc == POP3D_OK);
      continue;
    }
    {
      const uint8_t* data = (const uint8_t*)step->text;
      size_t left = strlen(step->text);
      int rounds = 0;
      do {
        size_t consumed = 0;
        if (use_feed2) {
          rc = pop3d_session_feed2(session, step->direction, data, left, on_event_stopping, st,
                                   &consumed);
        } else {
          uint64_t before = pop3d_session_offset(session, step->direction);
          rc = pop3d_session_feed(session, step->direction, data, left, on_event_stopping, st);
          consumed = (size_t)(pop3d_session_offset(session, step->direction) - before);
        }
        CHECK(rc == POP3D_OK || rc == POP3D_ERR_CALLBACK);
        CHECK(consumed <= left);
        CHECK(rc == POP3D_ERR_CALLBACK || consumed == left);
        data += consumed;
        left -= consumed;
      } while ((left > 0 || rc == POP3D_ERR_CALLBACK) && ++rounds < 1000 &&
               (left > 0 ||
                (rc = pop3d_session_resume(session, on_event_stopping, st)) == POP3D_ERR_CALLBACK));
      CHECK(rc == POP3D_OK);
    }
  }
  rc = pop3d_session_finish(session, on_event_stopping, st);
  while (rc == POP3D_ERR_CALLBACK) rc = pop3d_session_resume(session, on_event_stopping, st);
  CHECK(rc == POP3D_OK);
  CHECK(pop3d_session_held_events(session) == 0);
  pop3d_session_free(session);
}

static int logs_equal(const struct event_log* a, const struct event_log* b) {
  return a->events == b->events && a->length == b->length &&
         memcmp(a->bytes, b->bytes, a->length) == 0;
}

static void test_stop_and_resume(void) {
  struct stopper reference, run;
  int index, use_feed2;
  memset(&reference, 0, sizeof reference);
  run_conversation(&reference, 1);
  CHECK(reference.stops == 0);
  CHECK(reference.log.events > 30);
  for (use_feed2 = 0; use_feed2 <= 1; ++use_feed2) {
    /* One stop, at every event index in turn. */
    for (index = 1; index <= reference.log.events; ++index) {
      memset(&run, 0, sizeof run);
      run.stop_from = run.stop_to = index;
      run_conversation(&run, use_feed2);
      CHECK(run.stops == 1);
      if (!logs_equal(&reference.log, &run.log))
        fprintf(stderr, "stop at event %d (feed2 %d): events differ\n", index, use_feed2);
      CHECK(logs_equal(&reference.log, &run.log));
      free(run.log.bytes);
    }
    /* A stop at every event. */
    memset(&run, 0, sizeof run);
    run.stop_from = 1;
    run.stop_to = reference.log.events;
    run_conversation(&run, use_feed2);
    CHECK(run.stops == reference.log.events);
    CHECK(logs_equal(&reference.log, &run.log));
    free(run.log.bytes);
  }
  free(reference.log.bytes);
}

/* What a stop leaves: the events of the line after the stopping one are held, the next line
 * is not decoded, and the caller learns where decoding stopped. */
static void test_stop_position(void) {
  struct stopper st;
  pop3d_session* session = pop3d_session_new(NULL);
  const char* greeting = "+OK hi\r\n";
  const char* client = "USER a\r\nPASS b\r\n";
  const char* answers = "+OK\r\n+OK in\r\nnext\r\n";
  size_t consumed = 99;
  memset(&st, 0, sizeof st);
  CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)greeting,
                           strlen(greeting), NULL, NULL) == POP3D_OK);
  CHECK(pop3d_session_feed2(session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)client, strlen(client),
                            NULL, NULL, &consumed) == POP3D_OK);
  CHECK(consumed == strlen(client));
  /* "+OK" answers USER: STATUS, TRANSACTION. "+OK in" answers PASS: STATUS, then AUTH_RESULT,
   * STATE and TRANSACTION from the same line. Stop at that STATUS (the 3rd event of this
   * call). */
  st.stop_from = st.stop_to = 3;
  CHECK(pop3d_session_feed2(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)answers,
                            strlen(answers), on_event_stopping, &st,
                            &consumed) == POP3D_ERR_CALLBACK);
  CHECK(consumed == strlen("+OK\r\n+OK in\r\n"));
  CHECK(st.log.events == 3);
  CHECK(pop3d_session_held_events(session) == 3);
  CHECK(pop3d_session_offset(session, POP3D_SERVER_TO_CLIENT) ==
        strlen(greeting) + strlen("+OK\r\n+OK in\r\n"));
  /* The state already changed with the line. */
  CHECK(pop3d_session_state(session) == POP3D_STATE_TRANSACTION);
  {
    struct seen s;
    memset(&s, 0, sizeof s);
    CHECK(pop3d_session_resume(session, on_event, &s) == POP3D_OK);
    CHECK(s.events == 3 && s.states == 1 && s.auth_results == 1);
    CHECK(pop3d_session_held_events(session) == 0);
    CHECK(pop3d_session_resume(session, on_event, &s) == POP3D_OK);
    CHECK(s.events == 3);
  }
  pop3d_session_free(session);
  free(st.log.bytes);
}

/* ---- re-entrancy ------------------------------------------------------------------------ */
struct reentry {
  pop3d_session* session;
  int feed, feed2, gap, finish, resume, add_password, clone_null, events;
};

static int on_event_reentering(void* user_data, const pop3d_event* event) {
  struct reentry* r = (struct reentry*)user_data;
  size_t consumed = 1;
  (void)event;
  ++r->events;
  r->feed += pop3d_session_feed(r->session, 0, (const uint8_t*)"NOOP\r\n", 6, NULL, NULL) ==
             POP3D_ERR_REENTRANT;
  r->feed2 += pop3d_session_feed2(r->session, 0, (const uint8_t*)"NOOP\r\n", 6, NULL, NULL,
                                  &consumed) == POP3D_ERR_REENTRANT &&
              consumed == 0;
  r->gap += pop3d_session_gap(r->session, 0, 5, NULL, NULL) == POP3D_ERR_REENTRANT;
  r->finish += pop3d_session_finish(r->session, NULL, NULL) == POP3D_ERR_REENTRANT;
  r->resume += pop3d_session_resume(r->session, NULL, NULL) == POP3D_ERR_REENTRANT;
  r->add_password += pop3d_session_add_password(r->session, "u", 1, "p", 1) == POP3D_ERR_REENTRANT;
  r->clone_null += pop3d_session_clone(r->session) == NULL;
  pop3d_session_free(r->session); /* refused: the session lives on */
  /* Reading is allowed. */
  CHECK(pop3d_session_offset(r->session, POP3D_CLIENT_TO_SERVER) <= 12);
  return 0;
}

static void test_reentrancy(void) {
  struct reentry r;
  struct seen s;
  memset(&r, 0, sizeof r);
  memset(&s, 0, sizeof s);
  r.session = pop3d_session_new(NULL);
  CHECK(pop3d_session_feed(r.session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)"NOOP\r\nSTAT\r\n",
                           12, on_event_reentering, &r) == POP3D_OK);
  CHECK(r.events == 2);
  CHECK(r.feed == 2 && r.feed2 == 2 && r.gap == 2 && r.finish == 2 && r.resume == 2);
  CHECK(r.add_password == 2 && r.clone_null == 2);
  /* Nothing the callback attempted happened: only the two commands were decoded. */
  CHECK(pop3d_session_offset(r.session, POP3D_CLIENT_TO_SERVER) == 12);
  CHECK(pop3d_session_feed(r.session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)"QUIT\r\n", 6,
                           on_event, &s) == POP3D_OK);
  CHECK(s.commands == 1);
  pop3d_session_free(r.session);
}

static void test_status_names(void) {
  int status;
  int named = 0;
  for (status = -16; status <= 1; ++status) {
    const char* name = pop3d_status_name(status);
    CHECK((name == NULL) == (pop3d_status_description(status) == NULL));
    named += name != NULL;
  }
  CHECK(named == 7);
  CHECK(strcmp(pop3d_status_name(POP3D_OK), "ok") == 0);
  CHECK(strcmp(pop3d_status_name(POP3D_ERR_CALLBACK), "callback") == 0);
  CHECK(strcmp(pop3d_status_name(POP3D_ERR_REENTRANT), "reentrant") == 0);
  CHECK(strcmp(pop3d_status_name(POP3D_ERR_INTERNAL), "internal") == 0);
  CHECK(pop3d_status_name(-4) == NULL); /* retired */
}

static int feed(pop3d_session* session, uint32_t dir, const char* text, struct seen* s) {
  return pop3d_session_feed(session, dir, (const uint8_t*)text, strlen(text), on_event, s);
}

static int tcp_on_event_log(void* user_data, const pop3d_event* event) {
  log_event((struct event_log*)user_data, event);
  return 0;
}

/* The TCP follower through the C ABI: a short conversation whose segments arrive out of order
 * (a client segment after the answer to it, a server segment after the one that follows it)
 * gives exactly the events of the conversation decoded in order, and no gap. */
struct tcp_run {
  struct event_log log;
  int chunks, gaps, finishes;
};

static int tcp_on_event(void* user_data, const pop3d_event* event) {
  log_event(&((struct tcp_run*)user_data)->log, event);
  return 0;
}

static int tcp_on_report(void* user_data, const pop3d_tcp_report* report) {
  struct tcp_run* run = (struct tcp_run*)user_data;
  if (report->kind == POP3D_TCP_CHUNK) ++run->chunks;
  if (report->kind == POP3D_TCP_GAP) ++run->gaps;
  if (report->kind == POP3D_TCP_FINISH) ++run->finishes;
  return 0;
}

static void test_tcp_out_of_order(void) {
  /* The conversation in its true order: direction, bytes. */
  static const struct step turns[] = {
      {POP3D_SERVER_TO_CLIENT, "+OK ready\r\n", 0},
      {POP3D_CLIENT_TO_SERVER, "USER alice\r\n", 0},
      {POP3D_SERVER_TO_CLIENT, "+OK\r\n", 0},
      {POP3D_CLIENT_TO_SERVER, "PASS pw\r\nRETR 1\r\n", 0},
      {POP3D_SERVER_TO_CLIENT, "+OK in\r\n+OK 9 octets\r\nline 1\r\n", 0},
      {POP3D_SERVER_TO_CLIENT, "..x\r\n.\r\n", 0},
  };
  /* Capture order: turn 2 (the answer) before turn 1 (the command it answers), turn 5 before
   * turn 4. */
  static const int capture_order[] = {0, 2, 1, 3, 5, 4};
  const uint32_t isn[2] = {1000u, 4000000000u}; /* the server's sequence numbers wrap */
  uint32_t next[2];
  uint32_t seq_of[6], ack_of[6];
  struct event_log reference;
  struct tcp_run run;
  pop3d_session* session;
  pop3d_tcp* tcp;
  pop3d_tcp_segment segment;
  size_t i;

  /* Reference: the streams fed to a session in the conversation's order. */
  memset(&reference, 0, sizeof reference);
  session = pop3d_session_new(NULL);
  for (i = 0; i < sizeof turns / sizeof turns[0]; ++i)
    CHECK(pop3d_session_feed(session, turns[i].direction, (const uint8_t*)turns[i].text,
                             strlen(turns[i].text), tcp_on_event_log, &reference) == POP3D_OK);
  CHECK(pop3d_session_finish(session, tcp_on_event_log, &reference) == POP3D_OK);
  pop3d_session_free(session);

  /* Sequence and acknowledgement numbers of each turn: a sender acknowledges everything of
   * the other direction sent before its turn. */
  next[0] = isn[0] + 1;
  next[1] = isn[1] + 1;
  for (i = 0; i < sizeof turns / sizeof turns[0]; ++i) {
    const uint32_t d = turns[i].direction;
    seq_of[i] = next[d];
    ack_of[i] = next[1 - d];
    next[d] += (uint32_t)strlen(turns[i].text);
  }

  memset(&run, 0, sizeof run);
  session = pop3d_session_new(NULL);
  tcp = pop3d_tcp_new(session, NULL);
  CHECK(tcp != NULL);
  memset(&segment, 0, sizeof segment);
  segment.direction = POP3D_CLIENT_TO_SERVER;
  segment.flags = POP3D_TCP_SYN;
  segment.seq = isn[0];
  CHECK(pop3d_tcp_add(tcp, &segment, tcp_on_event, tcp_on_report, &run) == POP3D_OK);
  segment.direction = POP3D_SERVER_TO_CLIENT;
  segment.flags = POP3D_TCP_SYN | POP3D_TCP_ACK;
  segment.seq = isn[1];
  segment.ack = isn[0] + 1;
  CHECK(pop3d_tcp_add(tcp, &segment, tcp_on_event, tcp_on_report, &run) == POP3D_OK);
  for (i = 0; i < sizeof capture_order / sizeof capture_order[0]; ++i) {
    const int t = capture_order[i];
    segment.direction = turns[t].direction;
    segment.flags = POP3D_TCP_ACK;
    segment.seq = seq_of[t];
    segment.ack = ack_of[t];
    segment.payload = (const uint8_t*)turns[t].text;
    segment.payload_length = strlen(turns[t].text);
    segment.tag = (uint64_t)i + 3;
    CHECK(pop3d_tcp_add(tcp, &segment, tcp_on_event, tcp_on_report, &run) == POP3D_OK);
  }
  CHECK(pop3d_tcp_end(tcp, tcp_on_event, tcp_on_report, &run) == POP3D_OK);
  CHECK(pop3d_tcp_ended(tcp) == 1);
  CHECK(pop3d_tcp_buffered_bytes(tcp) == 0);
  CHECK(pop3d_tcp_offset(tcp, POP3D_SERVER_TO_CLIENT) == next[1] - isn[1] - 1);
  CHECK(pop3d_tcp_offset(tcp, POP3D_CLIENT_TO_SERVER) == next[0] - isn[0] - 1);
  CHECK(run.gaps == 0);
  CHECK(run.finishes == 1);
  CHECK(run.chunks >= 6);
  CHECK(reference.events > 10);
  CHECK(logs_equal(&reference, &run.log));
  CHECK(pop3d_session_state(session) == POP3D_STATE_TRANSACTION);
  pop3d_tcp_free(tcp);
  pop3d_session_free(session);
  free(reference.bytes);
  free(run.log.bytes);
}

int main(void) {
  struct seen s;
  pop3d_options options;
  pop3d_session *session, *copy;
  size_t length = 0;
  const char* user;
  pop3d_url* url = NULL;
  uint32_t i;

  memset(&s, 0, sizeof s);
  pop3d_options_init(&options);
  CHECK(options.max_line == 65536);
  session = pop3d_session_new(&options);
  CHECK(session != NULL);

  CHECK(feed(session, POP3D_SERVER_TO_CLIENT, "+OK ready <1.2@host>\r\n", &s) == POP3D_OK);
  CHECK(feed(session, POP3D_CLIENT_TO_SERVER, "CAPA\r\nUSER alice\r\nPA", &s) == POP3D_OK);
  CHECK(feed(session, POP3D_CLIENT_TO_SERVER, "SS wonderland\r\n", &s) == POP3D_OK);
  CHECK(feed(session, POP3D_SERVER_TO_CLIENT,
             "+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n+OK\r\n+OK logged in\r\n", &s) == POP3D_OK);
  CHECK(s.commands == 3);
  CHECK(s.last_request == 3);
  CHECK(strcmp(s.last_command, "PASS") == 0);
  CHECK(s.saw_user_field && s.saw_password_secret && s.saw_capa_sasl);
  CHECK(s.auth_results == 1);
  CHECK(s.states == 1);
  CHECK(pop3d_session_state(session) == POP3D_STATE_TRANSACTION);
  CHECK(pop3d_session_capability(session, 0, 0, &length) != NULL);
  CHECK(length == 4 && memcmp(pop3d_session_capability(session, 0, 0, &length), "SASL", 4) == 0);
  CHECK(strcmp(pop3d_session_capability(session, -1, 1, &length), "USER") == 0);
  CHECK(pop3d_session_capability(session, 0, 2, &length) == NULL && length == 0);
  CHECK(pop3d_session_capability(session, 1, 0, &length) == NULL);
  CHECK(pop3d_session_capability(session, 9, 0, &length) == NULL);
  CHECK(strcmp(pop3d_session_sasl_mechanism(session, 0, 0, &length), "PLAIN") == 0);
  user = pop3d_session_user(session, &length);
  CHECK(user != NULL && length == 5 && memcmp(user, "alice", 5) == 0);
  CHECK(pop3d_session_offset(session, POP3D_CLIENT_TO_SERVER) == 35);

  /* A clone decodes the rest the same way. */
  copy = pop3d_session_clone(session);
  CHECK(copy != NULL);
  CHECK(feed(copy, POP3D_CLIENT_TO_SERVER, "RETR 1\r\n", &s) == POP3D_OK);
  CHECK(feed(copy, POP3D_SERVER_TO_CLIENT, "+OK\r\nhello\r\n.\r\n", &s) == POP3D_OK);
  CHECK(s.data_lines == 3); /* two CAPA lines, one body line */
  CHECK(pop3d_session_finish(copy, on_event, &s) == POP3D_OK);
  pop3d_session_free(copy);

  /* A callback that asks to stop: at the first NOOP; the second is not decoded until fed
   * again. */
  s.stops_after = s.events + 1;
  s.commands = 0;
  CHECK(feed(session, POP3D_CLIENT_TO_SERVER, "NOOP\r\nNOOP\r\n", &s) == POP3D_ERR_CALLBACK);
  CHECK(s.commands == 1 && s.last_request == 4);
  CHECK(pop3d_session_offset(session, POP3D_CLIENT_TO_SERVER) == 35 + 6);
  s.stops_after = 0;
  CHECK(feed(session, POP3D_CLIENT_TO_SERVER, "NOOP\r\n", &s) == POP3D_OK);
  CHECK(s.commands == 2 && s.last_request == 5);
  pop3d_session_free(session);

  test_stop_position();
  test_stop_and_resume();
  test_reentrancy();
  test_status_names();
  test_tcp_out_of_order();

  /* Errors are values. */
  CHECK(pop3d_session_feed(NULL, 0, NULL, 0, on_event, &s) == POP3D_ERR_INVALID_ARGUMENT);
  session = pop3d_session_new(NULL);
  CHECK(pop3d_session_feed(session, 7, (const uint8_t*)"x", 1, on_event, &s) ==
        POP3D_ERR_INVALID_ARGUMENT);
  CHECK(pop3d_session_feed(session, 0, NULL, 1, on_event, &s) == POP3D_ERR_INVALID_ARGUMENT);
  CHECK(pop3d_session_feed(session, 0, NULL, 0, NULL, NULL) == POP3D_OK);
  memset(&s, 0, sizeof s);
  CHECK(feed(session, POP3D_SERVER_TO_CLIENT, "+OK\r\n", &s) == POP3D_OK);
  CHECK(feed(session, POP3D_CLIENT_TO_SERVER, "USER bob\r\nPASS x\r\n", &s) == POP3D_OK);
  CHECK(feed(session, POP3D_SERVER_TO_CLIENT, "+OK\r\n-ERR [IN-USE] locked\r\n", &s) == POP3D_OK);
  CHECK(s.saw_in_use);
  CHECK(pop3d_session_state(session) == POP3D_STATE_AUTHORIZATION);
  pop3d_session_free(session);
  pop3d_session_free(NULL);

  /* Tables. */
  for (i = 0; i < POP3D_ANOMALY_COUNT; ++i) {
    CHECK(pop3d_anomaly_name(i) != NULL && pop3d_anomaly_name(i)[0] != '\0');
    CHECK(pop3d_anomaly_description(i) != NULL);
    CHECK(pop3d_anomaly_severity(i) >= POP3D_SEVERITY_CHAT);
    CHECK(pop3d_anomaly_group_of(i) >= POP3D_GROUP_MALFORMED);
  }
  CHECK(pop3d_anomaly_name(POP3D_ANOMALY_COUNT) == NULL);
  CHECK(strcmp(pop3d_anomaly_name(POP3D_ANOMALY_NOT_POP3), "not_pop3") == 0);
  for (i = 0; i < POP3D_FIELD_COUNT; ++i) {
    CHECK(pop3d_field_name(i) != NULL);
    CHECK(pop3d_field_type_of(i) >= POP3D_TYPE_NONE && pop3d_field_type_of(i) <= POP3D_TYPE_BYTES);
  }
  CHECK(strcmp(pop3d_field_name(POP3D_FIELD_REQUEST_COMMAND), "request.command") == 0);
  CHECK(pop3d_field_type_of(POP3D_FIELD_MSG_NUMBER) == POP3D_TYPE_UINT);
  CHECK(pop3d_field_name(POP3D_FIELD_COUNT) == NULL);
  CHECK(strcmp(pop3d_command_name(POP3D_CMD_STLS), "STLS") == 0);
  CHECK(strcmp(pop3d_state_name(POP3D_STATE_UPDATE), "UPDATE") == 0);
  CHECK(strcmp(pop3d_event_kind_name(POP3D_EVENT_DATA_END), "data_end") == 0);
  CHECK(strcmp(pop3d_version(), POP3D_VERSION_STRING) == 0);
  CHECK(pop3d_version_number() == POP3D_VERSION_NUMBER);
  CHECK(POP3D_VERSION_NUMBER ==
        POP3D_VERSION_MAJOR * 10000 + POP3D_VERSION_MINOR * 100 + POP3D_VERSION_PATCH);

  /* Enums and their names. */
  CHECK(strcmp(pop3d_auth_result_name(POP3D_AUTH_SUCCESS), "success") == 0);
  CHECK(strcmp(pop3d_auth_result_name(POP3D_AUTH_FAILURE), "failure") == 0);
  CHECK(strcmp(pop3d_auth_result_name(POP3D_AUTH_REFUSED), "refused") == 0);
  CHECK(strcmp(pop3d_auth_result_name(POP3D_AUTH_CANCELLED), "cancelled") == 0);
  CHECK(strcmp(pop3d_auth_result_name(POP3D_AUTH_ABORTED), "aborted") == 0);
  CHECK(pop3d_auth_result_name(POP3D_AUTH_RESULT_COUNT) == NULL);
  CHECK(pop3d_auth_result_description(POP3D_AUTH_REFUSED) != NULL);
  CHECK(strcmp(pop3d_indicator_name(POP3D_INDICATOR_OK), "+OK") == 0);
  CHECK(strcmp(pop3d_indicator_name(POP3D_INDICATOR_ERR), "-ERR") == 0);
  CHECK(strcmp(pop3d_response_code_name(POP3D_RESPONSE_CODE_LOGIN_DELAY), "LOGIN-DELAY") == 0);
  CHECK(pop3d_response_code_name(POP3D_RESPONSE_CODE_COUNT) == NULL);
  CHECK(strcmp(pop3d_event_kind_name(POP3D_EVENT_TRANSACTION), "transaction") == 0);
  CHECK(pop3d_event_kind_name(POP3D_EVENT_KIND_COUNT) == NULL);
  CHECK(pop3d_state_name(POP3D_STATE_COUNT) == NULL);
  /* The command table. */
  CHECK(pop3d_command_from_verb("stat", 4) == POP3D_CMD_STAT);
  CHECK(pop3d_command_from_verb("XYZ", 3) == POP3D_CMD_UNKNOWN);
  CHECK(pop3d_command_from_verb("", 0) == POP3D_CMD_NONE);
  CHECK(pop3d_command_states(POP3D_CMD_RETR) == POP3D_STATES_TRANSACTION);
  CHECK(pop3d_command_states(POP3D_CMD_USER) == POP3D_STATES_AUTHORIZATION);
  CHECK(pop3d_command_states(POP3D_CMD_QUIT) == POP3D_STATES_ANY);
  CHECK(strcmp(pop3d_command_capability(POP3D_CMD_TOP), "TOP") == 0);
  CHECK(strcmp(pop3d_command_capability(POP3D_CMD_RETR), "") == 0);
  CHECK(pop3d_command_multiline(POP3D_CMD_LIST, 0) == 1);
  CHECK(pop3d_command_multiline(POP3D_CMD_LIST, 1) == 0);
  CHECK(pop3d_command_multiline(POP3D_CMD_RETR, 1) == 1);
  CHECK(pop3d_command_multiline(POP3D_CMD_DELE, 1) == 0);
  for (i = 1; i < POP3D_CMD_UNKNOWN; ++i)
    CHECK(pop3d_command_from_verb(pop3d_command_name(i), strlen(pop3d_command_name(i))) == i);

  /* A consumer that wants transactions only: every other event is left unbuilt. */
  {
    struct tx_seen tx;
    const char* greeting = "+OK ready\r\n";
    const char* server =
        "+OK\r\n-ERR [IN-USE] locked\r\n+OK\r\n+OK in\r\n"
        "+OK 12 octets\r\nline one\r\n..two\r\n.\r\n";
    const char* client = "USER bob\r\nPASS x\r\nUSER bob\r\nPASS y\r\nRETR 3\r\nNOOP\r\n";
    memset(&tx, 0, sizeof tx);
    pop3d_options_init(&options);
    CHECK(options.wanted_events == POP3D_EVENTS_DEFAULT);
    options.wanted_events = POP3D_EVENT_BIT(POP3D_EVENT_TRANSACTION);
    session = pop3d_session_new(&options);
    CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)greeting,
                             strlen(greeting), on_transaction, &tx) == POP3D_OK);
    CHECK(pop3d_session_feed(session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)client,
                             strlen(client), on_transaction, &tx) == POP3D_OK);
    CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)server,
                             strlen(server), on_transaction, &tx) == POP3D_OK);
    CHECK(pop3d_session_finish(session, on_transaction, &tx) == POP3D_OK);
    CHECK(tx.other_events == 0);
    CHECK(tx.transactions == 6);
    CHECK(tx.refused == 1);
    CHECK(tx.unanswered == 1); /* NOOP */
    CHECK(tx.retr_message == 3 && tx.retr_octets == 12 && tx.retr_lines == 2);
    pop3d_session_free(session);

    /* All events: the PASS lines are flagged secret. */
    memset(&tx, 0, sizeof tx);
    session = pop3d_session_new(NULL);
    CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)greeting,
                             strlen(greeting), on_transaction, &tx) == POP3D_OK);
    CHECK(pop3d_session_feed(session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)client,
                             strlen(client), on_transaction, &tx) == POP3D_OK);
    CHECK(tx.secret_lines == 2);
    CHECK(tx.other_events == 7); /* the greeting and six commands */
    pop3d_session_free(session);
  }

  /* Verification: RFC 1939's APOP example and RFC 2195's CRAM-MD5 example. */
  {
    const char* ts = "<1896.697170952@dbc.mtview.ca.us>";
    const char* digest = "c4c9334bac560ecc979e58001b3e22fb";
    const char* challenge = "<1896.697170952@postoffice.reston.mci.net>";
    const char* cram = "b913a602c7eda7a495b4e6e7334d3890";
    CHECK(pop3d_verify_apop(ts, strlen(ts), "tanstaaf", 8, digest, 32) == 1);
    CHECK(pop3d_verify_apop(ts, strlen(ts), "wrong", 5, digest, 32) == 0);
    CHECK(pop3d_verify_apop(ts, strlen(ts), "tanstaaf", 8, "zz", 2) < 0);
    CHECK(pop3d_verify_apop(NULL, 0, "x", 1, digest, 32) == POP3D_ERR_INVALID_ARGUMENT);
    CHECK(pop3d_verify_cram_md5(challenge, strlen(challenge), "tanstaaftanstaaf", 16, cram, 32) ==
          1);
    CHECK(pop3d_verify_cram_md5(challenge, strlen(challenge), "tanstaaf", 8, cram, 32) == 0);
  }

  /* A SASL exchange through the C ABI: RFC 2195's CRAM-MD5, checked with a known password. */
  {
    struct sasl_seen {
      int challenge, username, verified, result_success;
    } seen_sasl;
    session = pop3d_session_new(NULL);
    CHECK(pop3d_session_add_password(session, "tim", 3, "tanstaaftanstaaf", 16) == POP3D_OK);
    memset(&seen_sasl, 0, sizeof seen_sasl);
    CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)"+OK hi\r\n", 8,
                             on_sasl_event, &seen_sasl) == POP3D_OK);
    CHECK(pop3d_session_feed(session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)"AUTH CRAM-MD5\r\n",
                             15, on_sasl_event, &seen_sasl) == POP3D_OK);
    {
      const char* challenge = "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n";
      const char* answer = "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n";
      CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)challenge,
                               strlen(challenge), on_sasl_event, &seen_sasl) == POP3D_OK);
      CHECK(pop3d_session_feed(session, POP3D_CLIENT_TO_SERVER, (const uint8_t*)answer,
                               strlen(answer), on_sasl_event, &seen_sasl) == POP3D_OK);
    }
    CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, (const uint8_t*)"+OK in\r\n", 8,
                             on_sasl_event, &seen_sasl) == POP3D_OK);
    CHECK(seen_sasl.challenge == 1);
    CHECK(seen_sasl.username == 1);
    CHECK(seen_sasl.verified == 1);
    CHECK(seen_sasl.result_success == 1);
    CHECK(pop3d_session_state(session) == POP3D_STATE_TRANSACTION);
    pop3d_session_free(session);
  }

  /* DIGEST-MD5 (RFC 2831's example) and SCRAM-SHA-1 (RFC 5802's example) verification. */
  {
    const char* digest_response =
        "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
        "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
        "response=d388dad90d4bbd760a152321f2143af7,qop=auth";
    const char* client_first = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
    const char* server_first =
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const char* client_final =
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    CHECK(pop3d_verify_digest_md5(digest_response, strlen(digest_response), "secret", 6) == 1);
    CHECK(pop3d_verify_digest_md5(digest_response, strlen(digest_response), "Secret", 6) == 0);
    CHECK(pop3d_verify_digest_md5("junk", 4, "secret", 6) < 0);
    CHECK(pop3d_verify_scram("SCRAM-SHA-1", client_first, strlen(client_first), server_first,
                             strlen(server_first), client_final, strlen(client_final), "pencil",
                             6) == 1);
    CHECK(pop3d_verify_scram("SCRAM-SHA-1", client_first, strlen(client_first), server_first,
                             strlen(server_first), client_final, strlen(client_final), "pen",
                             3) == 0);
    CHECK(pop3d_verify_scram(NULL, "", 0, "", 0, "", 0, "", 0) == POP3D_ERR_INVALID_ARGUMENT);
  }

  /* POP URLs (RFC 2384). */
  CHECK(pop3d_url_parse("pop://rg;AUTH=+APOP@mail.eudora.com:8110", 40, &url) == POP3D_OK);
  CHECK(url != NULL);
  CHECK(strcmp(pop3d_url_user(url), "rg") == 0);
  CHECK(strcmp(pop3d_url_auth(url), "+APOP") == 0);
  CHECK(strcmp(pop3d_url_host(url), "mail.eudora.com") == 0);
  CHECK(pop3d_url_port(url) == 8110);
  CHECK(strncmp(pop3d_url_commands(url), "APOP rg", 7) == 0);
  pop3d_url_free(url);
  CHECK(pop3d_url_parse("http://x", 8, &url) == POP3D_ERR_PARSE);
  CHECK(url == NULL);

  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api: all checks passed\n");
  return 0;
}
