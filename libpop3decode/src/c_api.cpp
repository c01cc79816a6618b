// The C ABI: thin, noexcept wrappers; no exception crosses it.
#include <deque>
#include <new>
#include <string>
#include <vector>

#include "pop3decode/parse.hpp"
#include "pop3decode/pop3decode.h"
#include "pop3decode/sasl.hpp"
#include "pop3decode/session.hpp"
#include "pop3decode/url.hpp"

namespace {

// A deep copy of an event whose delivery a callback stopped; pointers are set on delivery.
struct HeldEvent {
  pop3d_event event{};
  std::string line;
  std::string data;
  std::vector<pop3d_item> items;
  std::vector<std::string> item_texts;
  std::vector<pop3d_buffer> buffers;
  std::vector<std::string> buffer_bytes;
  std::vector<pop3d_anomaly_hit> anomalies;
  bool has_transaction = false;
  pop3d_transaction transaction{};
  std::string argument, code, description, mechanism, authcid, authzid;  // the transaction's
};

}  // namespace

struct pop3d_session {
  explicit pop3d_session(pop3decode::Session s) : session(std::move(s)) {}
  pop3d_session(const pop3d_session& other)
      : session(other.session), held(other.held), failure(other.failure) {}

  pop3decode::Session session;
  // Scratch arrays reused for every event handed to C (their capacity stays).
  std::vector<pop3d_item> items;
  std::vector<pop3d_buffer> buffers;
  std::vector<pop3d_anomaly_hit> anomalies;
  pop3d_transaction transaction{};
  // Events after the one whose callback stopped, from the same line: delivered next.
  std::deque<HeldEvent> held;
  bool in_call = false;    // a feed/gap/finish/resume is delivering events
  int failure = POP3D_OK;  // sticky NO_MEMORY / INTERNAL once decoding failed part-way
};

struct pop3d_url {
  pop3decode::PopUrl url;
  std::string commands;
};

namespace {

using pop3decode::Direction;

const uint8_t* bytes_of(std::string_view s) noexcept {
  return reinterpret_cast<const uint8_t*>(s.data());
}

std::string copy_of(const uint8_t* bytes, size_t length) {
  return length == 0 ? std::string() : std::string(reinterpret_cast<const char*>(bytes), length);
}

HeldEvent hold(const pop3d_event& e) {
  HeldEvent held;
  held.event = e;
  held.line = copy_of(e.line, e.line_length);
  held.data = copy_of(e.data, e.data_length);
  held.items.assign(e.items, e.items + e.item_count);
  for (const pop3d_item& item : held.items)
    held.item_texts.push_back(copy_of(item.text, item.text_length));
  held.buffers.assign(e.buffers, e.buffers + e.buffer_count);
  for (const pop3d_buffer& buffer : held.buffers)
    held.buffer_bytes.push_back(copy_of(buffer.data, buffer.length));
  held.anomalies.assign(e.anomalies, e.anomalies + e.anomaly_count);
  if (e.transaction != nullptr) {
    const pop3d_transaction& t = *e.transaction;
    held.has_transaction = true;
    held.transaction = t;
    held.argument = copy_of(t.argument, t.argument_length);
    held.code = copy_of(t.code, t.code_length);
    held.description = copy_of(t.description, t.description_length);
    held.mechanism = copy_of(t.mechanism, t.mechanism_length);
    held.authcid = copy_of(t.authcid, t.authcid_length);
    held.authzid = copy_of(t.authzid, t.authzid_length);
  }
  return held;
}

// Points the held event at its own copies (set at delivery: a clone copies the strings).
const pop3d_event& unpack(HeldEvent& held) noexcept {
  pop3d_event& e = held.event;
  e.line = bytes_of(held.line);
  e.data = bytes_of(held.data);
  for (size_t i = 0; i < held.items.size(); ++i) held.items[i].text = bytes_of(held.item_texts[i]);
  for (size_t i = 0; i < held.buffers.size(); ++i)
    held.buffers[i].data = bytes_of(held.buffer_bytes[i]);
  e.items = held.items.data();
  e.buffers = held.buffers.data();
  e.anomalies = held.anomalies.data();
  e.transaction = nullptr;
  if (held.has_transaction) {
    pop3d_transaction& t = held.transaction;
    t.argument = bytes_of(held.argument);
    t.code = bytes_of(held.code);
    t.description = bytes_of(held.description);
    t.mechanism = bytes_of(held.mechanism);
    t.authcid = bytes_of(held.authcid);
    t.authzid = bytes_of(held.authzid);
    e.transaction = &t;
  }
  return e;
}

// Delivers the held events, oldest first, until the callback stops again.
int deliver_held(pop3d_session& session, pop3d_event_callback callback, void* user_data) noexcept {
  while (!session.held.empty()) {
    const int stop = callback ? callback(user_data, &unpack(session.held.front())) : 0;
    session.held.pop_front();
    if (stop != 0) return POP3D_ERR_CALLBACK;
  }
  return POP3D_OK;
}

// Adapts C++ events to the C callback. After the callback asks to stop, the session is told
// to stop at the end of the line, and the rest of that line's events are held.
class CallbackHandler final : public pop3decode::EventHandler {
 public:
  // stopped: the callback already asked to stop (while held events were delivered).
  CallbackHandler(pop3d_session& owner, pop3d_event_callback callback, void* user_data,
                  bool stopped)
      : owner_(owner), callback_(callback), user_data_(user_data), stopped_(stopped) {}

  void on_event(const pop3decode::Event& e) override {
    if (callback_ == nullptr) return;
    owner_.items.clear();
    for (const auto& item : e.items) {
      owner_.items.push_back(pop3d_item{static_cast<uint32_t>(item.field), item.parent, item.source,
                                        item.flags, item.offset, item.length, item.number,
                                        bytes_of(item.text), item.text.size(),
                                        static_cast<uint32_t>(item.type)});
    }
    owner_.buffers.clear();
    for (const auto& buffer : e.buffers) {
      owner_.buffers.push_back(pop3d_buffer{bytes_of(buffer.data), buffer.data.size(),
                                            buffer.origin_offset, buffer.origin_length});
    }
    owner_.anomalies.clear();
    for (const auto& hit : e.anomalies) {
      owner_.anomalies.push_back(
          pop3d_anomaly_hit{static_cast<uint32_t>(hit.anomaly), hit.offset, hit.length});
    }
    pop3d_event event{};
    event.kind = static_cast<uint32_t>(e.kind);
    event.direction = static_cast<uint32_t>(e.direction);
    event.offset = e.offset;
    event.length = e.length;
    event.line = bytes_of(e.line);
    event.line_length = e.line.size();
    event.data = bytes_of(e.data);
    event.data_length = e.data.size();
    event.request_id = e.request_id;
    event.command = static_cast<uint32_t>(e.command);
    event.piece = e.piece;
    event.items = owner_.items.data();
    event.item_count = owner_.items.size();
    event.buffers = owner_.buffers.data();
    event.buffer_count = owner_.buffers.size();
    event.anomalies = owner_.anomalies.data();
    event.anomaly_count = owner_.anomalies.size();
    event.flags = e.flags;
    if (e.transaction) {
      const pop3decode::Transaction& t = *e.transaction;
      pop3d_transaction& c = owner_.transaction;
      c.request_id = t.request_id;
      c.command = static_cast<uint32_t>(t.command);
      c.flags = t.flags;
      c.command_offset = t.command_offset;
      c.response_offset = t.response_offset;
      c.message = t.message;
      c.lines = t.lines;
      c.argument = bytes_of(t.argument);
      c.argument_length = t.argument.size();
      c.indicator = static_cast<uint32_t>(t.indicator);
      c.response_code = static_cast<uint32_t>(t.response_code);
      c.code = bytes_of(t.code);
      c.code_length = t.code.size();
      c.description = bytes_of(t.description);
      c.description_length = t.description.size();
      c.announced_octets = t.announced_octets;
      c.data_octets = t.data_octets;
      c.data_lines = t.data_lines;
      c.auth_result = static_cast<uint32_t>(t.auth_result);
      c.sasl_steps = t.sasl_steps;
      c.mechanism = bytes_of(t.mechanism);
      c.mechanism_length = t.mechanism.size();
      c.authcid = bytes_of(t.authcid);
      c.authcid_length = t.authcid.size();
      c.authzid = bytes_of(t.authzid);
      c.authzid_length = t.authzid.size();
      event.transaction = &c;
    }
    if (stopped_) {
      owner_.held.push_back(hold(event));
    } else if (callback_(user_data_, &event) != 0) {
      stopped_ = true;
      owner_.session.stop();
    }
  }

  bool stopped() const noexcept { return stopped_; }

 private:
  pop3d_session& owner_;
  pop3d_event_callback callback_;
  void* user_data_;
  bool stopped_;
};

pop3decode::Options to_options(const pop3d_options* options) noexcept {
  pop3decode::Options result;
  if (options != nullptr) {
    result.max_line = options->max_line;
    result.max_pending = options->max_pending;
    result.mid_stream = options->mid_stream != 0;
    result.implicit_tls = options->implicit_tls != 0;
    result.wanted_events = options->wanted_events;
  }
  return result;
}

// Runs `body` and maps what it throws to status codes; nothing leaves this function.
template <typename Body>
int guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return POP3D_ERR_NO_MEMORY;
  } catch (...) {
    return POP3D_ERR_INTERNAL;
  }
}

// Whether a call still decodes when the callback stopped during the held events: feed does
// not (it reports 0 bytes consumed); gap and finish do (held, their events wait), so that each
// happens exactly once.
enum class AfterHeldStop : bool { skip, apply };

// A call that delivers events: refuses re-entry from a callback and a failed session,
// delivers held events first, and makes a failure part-way sticky (the decoder's state is
// then unspecified).
template <typename Body>
int decoding(pop3d_session* session, pop3d_event_callback callback, void* user_data,
             AfterHeldStop after_held_stop, Body&& body) noexcept {
  if (session->in_call) return POP3D_ERR_REENTRANT;
  if (session->failure != POP3D_OK) return session->failure;
  session->in_call = true;
  int status = deliver_held(*session, callback, user_data);
  if (status == POP3D_OK || after_held_stop == AfterHeldStop::apply) {
    const bool stopped = status != POP3D_OK;
    status = guarded([&] {
      CallbackHandler handler(*session, callback, user_data, stopped);
      body(handler);
      return handler.stopped() ? POP3D_ERR_CALLBACK : POP3D_OK;
    });
    if (status == POP3D_ERR_NO_MEMORY || status == POP3D_ERR_INTERNAL) {
      session->failure = status;
      session->held.clear();
    }
  }
  session->in_call = false;
  return status;
}

std::string_view view(const char* text, size_t length) noexcept {
  return text == nullptr ? std::string_view{} : std::string_view(text, length);
}

int verification_result(std::optional<bool> result) noexcept {
  return result ? (*result ? 1 : 0) : POP3D_ERR_PARSE;
}

}  // namespace

extern "C" {

POP3D_EXPORT void pop3d_options_init(pop3d_options* options) noexcept {
  if (options == nullptr) return;
  const pop3decode::Options defaults;
  options->max_line = defaults.max_line;
  options->max_pending = defaults.max_pending;
  options->mid_stream = 0;
  options->implicit_tls = 0;
  options->wanted_events = POP3D_EVENTS_DEFAULT;
}

POP3D_EXPORT pop3d_session* pop3d_session_new(const pop3d_options* options) noexcept {
  try {
    return new pop3d_session(pop3decode::Session(to_options(options)));
  } catch (...) {
    return nullptr;
  }
}

POP3D_EXPORT pop3d_session* pop3d_session_clone(const pop3d_session* session) noexcept {
  if (session == nullptr || session->in_call) return nullptr;
  try {
    return new pop3d_session(*session);
  } catch (...) {
    return nullptr;
  }
}

POP3D_EXPORT void pop3d_session_free(pop3d_session* session) noexcept {
  if (session != nullptr && session->in_call) return;  // from its own callback: refused
  delete session;
}

POP3D_EXPORT int pop3d_session_feed2(pop3d_session* session, uint32_t direction,
                                     const uint8_t* data, size_t length,
                                     pop3d_event_callback callback, void* user_data,
                                     size_t* consumed) noexcept {
  if (consumed != nullptr) *consumed = 0;
  if (session == nullptr || (data == nullptr && length > 0) || direction > 1)
    return POP3D_ERR_INVALID_ARGUMENT;
  size_t decoded = 0;
  const int status =
      decoding(session, callback, user_data, AfterHeldStop::skip, [&](CallbackHandler& handler) {
        decoded = session->session.feed(
            static_cast<Direction>(direction),
            std::string_view(reinterpret_cast<const char*>(data), length), handler);
      });
  if (consumed != nullptr && (status == POP3D_OK || status == POP3D_ERR_CALLBACK))
    *consumed = decoded;
  return status;
}

POP3D_EXPORT int pop3d_session_feed(pop3d_session* session, uint32_t direction, const uint8_t* data,
                                    size_t length, pop3d_event_callback callback,
                                    void* user_data) noexcept {
  return pop3d_session_feed2(session, direction, data, length, callback, user_data, nullptr);
}

POP3D_EXPORT int pop3d_session_gap(pop3d_session* session, uint32_t direction, uint64_t length,
                                   pop3d_event_callback callback, void* user_data) noexcept {
  if (session == nullptr || direction > 1) return POP3D_ERR_INVALID_ARGUMENT;
  return decoding(session, callback, user_data, AfterHeldStop::apply,
                  [&](CallbackHandler& handler) {
                    session->session.gap(static_cast<Direction>(direction), length, handler);
                  });
}

POP3D_EXPORT int pop3d_session_finish(pop3d_session* session, pop3d_event_callback callback,
                                      void* user_data) noexcept {
  if (session == nullptr) return POP3D_ERR_INVALID_ARGUMENT;
  return decoding(session, callback, user_data, AfterHeldStop::apply,
                  [&](CallbackHandler& handler) { session->session.finish(handler); });
}

POP3D_EXPORT int pop3d_session_resume(pop3d_session* session, pop3d_event_callback callback,
                                      void* user_data) noexcept {
  if (session == nullptr) return POP3D_ERR_INVALID_ARGUMENT;
  return decoding(session, callback, user_data, AfterHeldStop::skip, [](CallbackHandler&) {});
}

POP3D_EXPORT size_t pop3d_session_held_events(const pop3d_session* session) noexcept {
  return session ? session->held.size() : 0;
}

POP3D_EXPORT int pop3d_session_set_peer_acked(pop3d_session* session, uint32_t direction,
                                              uint64_t peer_offset) noexcept {
  if (session == nullptr || direction > 1) return POP3D_ERR_INVALID_ARGUMENT;
  if (session->in_call) return POP3D_ERR_REENTRANT;
  session->session.set_peer_acknowledged(static_cast<Direction>(direction), peer_offset);
  return POP3D_OK;
}

POP3D_EXPORT int pop3d_session_add_password(pop3d_session* session, const char* user,
                                            size_t user_length, const char* password,
                                            size_t password_length) noexcept {
  if (session == nullptr || user == nullptr || password == nullptr)
    return POP3D_ERR_INVALID_ARGUMENT;
  if (session->in_call) return POP3D_ERR_REENTRANT;
  return guarded([&] {
    session->session.add_password(std::string(user, user_length),
                                  std::string(password, password_length));
    return POP3D_OK;
  });
}

POP3D_EXPORT uint32_t pop3d_session_state(const pop3d_session* session) noexcept {
  return session ? static_cast<uint32_t>(session->session.state())
                 : static_cast<uint32_t>(POP3D_STATE_AUTHORIZATION);
}
POP3D_EXPORT int pop3d_session_tls(const pop3d_session* session) noexcept {
  return session && session->session.tls() ? 1 : 0;
}
POP3D_EXPORT int pop3d_session_gave_up(const pop3d_session* session) noexcept {
  return session && session->session.gave_up() ? 1 : 0;
}
POP3D_EXPORT uint64_t pop3d_session_offset(const pop3d_session* session,
                                           uint32_t direction) noexcept {
  if (session == nullptr || direction > 1) return 0;
  return session->session.offset(static_cast<Direction>(direction));
}
POP3D_EXPORT const char* pop3d_session_user(const pop3d_session* session, size_t* length) noexcept {
  std::string_view user = session ? session->session.user() : std::string_view{};
  if (length) *length = user.size();
  return user.empty() ? nullptr : user.data();
}

namespace {
const pop3decode::Capabilities* capabilities_of(const pop3d_session* session, int phase) noexcept {
  if (session == nullptr || phase < -1 || phase > 3) return nullptr;
  return phase < 0 ? &session->session.latest_capabilities()
                   : &session->session.capabilities(static_cast<pop3decode::CapaPhase>(phase));
}
const char* nth(const std::vector<std::string>* list, size_t index, size_t* length) noexcept {
  if (list == nullptr || index >= list->size()) {
    if (length) *length = 0;
    return nullptr;
  }
  if (length) *length = (*list)[index].size();
  return (*list)[index].c_str();
}
}  // namespace

POP3D_EXPORT const char* pop3d_session_capability(const pop3d_session* session, int phase,
                                                  size_t index, size_t* length) noexcept {
  const auto* caps = capabilities_of(session, phase);
  return nth(caps ? &caps->names : nullptr, index, length);
}
POP3D_EXPORT const char* pop3d_session_sasl_mechanism(const pop3d_session* session, int phase,
                                                      size_t index, size_t* length) noexcept {
  const auto* caps = capabilities_of(session, phase);
  return nth(caps ? &caps->sasl_mechanisms : nullptr, index, length);
}

POP3D_EXPORT const char* pop3d_anomaly_name(uint32_t anomaly) noexcept {
  return anomaly < POP3D_ANOMALY_COUNT
             ? pop3decode::anomaly_name(static_cast<pop3decode::Anomaly>(anomaly)).data()
             : nullptr;
}
POP3D_EXPORT const char* pop3d_anomaly_description(uint32_t anomaly) noexcept {
  return anomaly < POP3D_ANOMALY_COUNT
             ? pop3decode::anomaly_description(static_cast<pop3decode::Anomaly>(anomaly)).data()
             : nullptr;
}
POP3D_EXPORT int pop3d_anomaly_severity(uint32_t anomaly) noexcept {
  if (anomaly >= POP3D_ANOMALY_COUNT) return -1;
  return pop3decode::anomaly_severity(static_cast<pop3decode::Anomaly>(anomaly));
}
POP3D_EXPORT int pop3d_anomaly_group_of(uint32_t anomaly) noexcept {
  if (anomaly >= POP3D_ANOMALY_COUNT) return -1;
  return pop3decode::anomaly_group(static_cast<pop3decode::Anomaly>(anomaly));
}
POP3D_EXPORT const char* pop3d_field_name(uint32_t field) noexcept {
  return field < POP3D_FIELD_COUNT
             ? pop3decode::field_name(static_cast<pop3decode::Field>(field)).data()
             : nullptr;
}
POP3D_EXPORT const char* pop3d_field_description(uint32_t field) noexcept {
  return field < POP3D_FIELD_COUNT
             ? pop3decode::field_description(static_cast<pop3decode::Field>(field)).data()
             : nullptr;
}
POP3D_EXPORT int pop3d_field_type_of(uint32_t field) noexcept {
  return field < POP3D_FIELD_COUNT
             ? static_cast<int>(pop3decode::field_type(static_cast<pop3decode::Field>(field)))
             : -1;
}
POP3D_EXPORT const char* pop3d_event_kind_name(uint32_t kind) noexcept {
  auto name = pop3decode::event_kind_name(static_cast<pop3decode::EventKind>(kind));
  return name.empty() ? nullptr : name.data();
}
POP3D_EXPORT const char* pop3d_command_name(uint32_t command) noexcept {
  auto name = pop3decode::command_name(static_cast<pop3decode::Command>(command));
  return command <= POP3D_CMD_UNKNOWN ? name.data() : nullptr;
}
POP3D_EXPORT uint32_t pop3d_command_from_verb(const char* verb, size_t length) noexcept {
  if (verb == nullptr) return POP3D_CMD_NONE;
  return static_cast<uint32_t>(pop3decode::command_from_verb(std::string_view(verb, length)));
}
POP3D_EXPORT uint32_t pop3d_command_states(uint32_t command) noexcept {
  const auto* info = pop3decode::command_info(static_cast<pop3decode::Command>(command));
  return info ? info->states : (command == POP3D_CMD_UNKNOWN ? POP3D_STATES_ANY : 0u);
}
POP3D_EXPORT const char* pop3d_command_capability(uint32_t command) noexcept {
  const auto* info = pop3decode::command_info(static_cast<pop3decode::Command>(command));
  return info ? info->capability.data() : nullptr;
}
POP3D_EXPORT int pop3d_command_multiline(uint32_t command, size_t argument_count) noexcept {
  return pop3decode::command_multiline(static_cast<pop3decode::Command>(command), argument_count)
             ? 1
             : 0;
}
POP3D_EXPORT const char* pop3d_indicator_name(uint32_t indicator) noexcept {
  return indicator < POP3D_INDICATOR_COUNT
             ? pop3decode::indicator_name(static_cast<pop3decode::Indicator>(indicator)).data()
             : nullptr;
}
POP3D_EXPORT const char* pop3d_response_code_name(uint32_t response_code) noexcept {
  return response_code < POP3D_RESPONSE_CODE_COUNT
             ? pop3decode::response_code_name(static_cast<pop3decode::ResponseCode>(response_code))
                   .data()
             : nullptr;
}
POP3D_EXPORT const char* pop3d_auth_result_name(uint32_t auth_result) noexcept {
  return auth_result < POP3D_AUTH_RESULT_COUNT
             ? pop3decode::auth_result_name(static_cast<pop3decode::AuthResult>(auth_result)).data()
             : nullptr;
}
POP3D_EXPORT const char* pop3d_auth_result_description(uint32_t auth_result) noexcept {
  return auth_result < POP3D_AUTH_RESULT_COUNT
             ? pop3decode::auth_result_description(static_cast<pop3decode::AuthResult>(auth_result))
                   .data()
             : nullptr;
}
POP3D_EXPORT const char* pop3d_state_name(uint32_t state) noexcept {
  auto name = pop3decode::state_name(static_cast<pop3decode::State>(state));
  return name.empty() ? nullptr : name.data();
}
POP3D_EXPORT const char* pop3d_status_name(int status) noexcept {
  switch (status) {
#define POP3D_X_CASE(id, value, name, desc) \
  case POP3D_##id: return name;
    POP3D_STATUS_MAP(POP3D_X_CASE)
#undef POP3D_X_CASE
  }
  return nullptr;
}
POP3D_EXPORT const char* pop3d_status_description(int status) noexcept {
  switch (status) {
#define POP3D_X_CASE(id, value, name, desc) \
  case POP3D_##id: return desc;
    POP3D_STATUS_MAP(POP3D_X_CASE)
#undef POP3D_X_CASE
  }
  return nullptr;
}
POP3D_EXPORT const char* pop3d_version(void) noexcept {
  return POP3D_VERSION_STRING;
}
POP3D_EXPORT uint32_t pop3d_version_number(void) noexcept {
  return POP3D_VERSION_NUMBER;
}

POP3D_EXPORT int pop3d_verify_apop(const char* timestamp, size_t timestamp_length,
                                   const char* password, size_t password_length,
                                   const char* hex_digest, size_t hex_digest_length) noexcept {
  if (!timestamp || !password || !hex_digest) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    return verification_result(pop3decode::sasl::verify_apop(view(timestamp, timestamp_length),
                                                             view(password, password_length),
                                                             view(hex_digest, hex_digest_length)));
  });
}

POP3D_EXPORT int pop3d_verify_cram_md5(const char* challenge, size_t challenge_length,
                                       const char* password, size_t password_length,
                                       const char* hex_digest, size_t hex_digest_length) noexcept {
  if (!challenge || !password || !hex_digest) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    return verification_result(pop3decode::sasl::verify_cram_md5(
        view(challenge, challenge_length), view(password, password_length),
        view(hex_digest, hex_digest_length)));
  });
}

POP3D_EXPORT int pop3d_verify_digest_md5(const char* client_response, size_t client_response_length,
                                         const char* password, size_t password_length) noexcept {
  if (!client_response || !password) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    return verification_result(pop3decode::sasl::verify_digest_md5(
        view(client_response, client_response_length), view(password, password_length)));
  });
}

POP3D_EXPORT int pop3d_verify_scram(const char* mechanism, const char* client_first,
                                    size_t client_first_length, const char* server_first,
                                    size_t server_first_length, const char* client_final,
                                    size_t client_final_length, const char* password,
                                    size_t password_length) noexcept {
  if (!mechanism || !client_first || !server_first || !client_final || !password)
    return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    return verification_result(pop3decode::sasl::verify_scram(
        mechanism, view(client_first, client_first_length), view(server_first, server_first_length),
        view(client_final, client_final_length), view(password, password_length)));
  });
}

POP3D_EXPORT int pop3d_url_parse(const char* url, size_t length, pop3d_url** out) noexcept {
  if (out == nullptr) return POP3D_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  if (url == nullptr) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    auto parsed = pop3decode::parse_pop_url(std::string_view(url, length));
    if (!parsed) return static_cast<int>(POP3D_ERR_PARSE);
    auto* handle = new pop3d_url{std::move(*parsed), {}};
    for (const std::string& command : handle->url.commands()) {
      handle->commands += command;
      handle->commands += "\r\n";
    }
    *out = handle;
    return static_cast<int>(POP3D_OK);
  });
}

POP3D_EXPORT void pop3d_url_free(pop3d_url* url) noexcept {
  delete url;
}
POP3D_EXPORT const char* pop3d_url_user(const pop3d_url* url) noexcept {
  return url ? url->url.user.c_str() : nullptr;
}
POP3D_EXPORT const char* pop3d_url_auth(const pop3d_url* url) noexcept {
  return url ? url->url.auth.c_str() : nullptr;
}
POP3D_EXPORT const char* pop3d_url_host(const pop3d_url* url) noexcept {
  return url ? url->url.host.c_str() : nullptr;
}
POP3D_EXPORT uint16_t pop3d_url_port(const pop3d_url* url) noexcept {
  return url ? url->url.port : 0;
}
POP3D_EXPORT const char* pop3d_url_commands(const pop3d_url* url) noexcept {
  return url ? url->commands.c_str() : nullptr;
}

}  // extern "C"
