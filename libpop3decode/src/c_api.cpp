// The C ABI: thin, noexcept wrappers; no exception crosses it.
#include <new>
#include <string>
#include <vector>

#include "pop3decode/pop3decode.h"
#include "pop3decode/sasl.hpp"
#include "pop3decode/session.hpp"
#include "pop3decode/url.hpp"

struct pop3d_session {
  pop3decode::Session session;
  // Scratch arrays reused for every event handed to C (their capacity stays).
  std::vector<pop3d_item> items;
  std::vector<pop3d_buffer> buffers;
  std::vector<pop3d_anomaly_hit> anomalies;
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

// Adapts C++ events to the C callback; remembers whether the callback asked to stop.
class CallbackHandler final : public pop3decode::EventHandler {
 public:
  CallbackHandler(pop3d_session& owner, pop3d_event_callback callback, void* user_data)
      : owner_(owner), callback_(callback), user_data_(user_data) {}

  void on_event(const pop3decode::Event& e) override {
    if (stopped_ || callback_ == nullptr) return;
    owner_.items.clear();
    for (const auto& item : e.items) {
      owner_.items.push_back(pop3d_item{static_cast<uint32_t>(item.field), item.parent, item.source,
                                        item.flags, item.offset, item.length, item.number,
                                        bytes_of(item.text), item.text.size()});
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
    if (callback_(user_data_, &event) != 0) stopped_ = true;
  }

  bool stopped() const noexcept { return stopped_; }

 private:
  pop3d_session& owner_;
  pop3d_event_callback callback_;
  void* user_data_;
  bool stopped_ = false;
};

pop3decode::Options to_options(const pop3d_options* options) noexcept {
  pop3decode::Options result;
  if (options != nullptr) {
    result.max_line = options->max_line;
    result.max_pending = options->max_pending;
    result.mid_stream = options->mid_stream != 0;
    result.implicit_tls = options->implicit_tls != 0;
  }
  return result;
}

// Runs `body` and maps the failure modes to status codes: nothing but bad_alloc can be thrown
// by the library, and nothing at all leaves this function.
template <typename Body>
int guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return POP3D_ERR_NO_MEMORY;
  } catch (...) {
    return POP3D_ERR_NO_MEMORY;
  }
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
}

POP3D_EXPORT pop3d_session* pop3d_session_new(const pop3d_options* options) noexcept {
  try {
    return new pop3d_session{pop3decode::Session(to_options(options)), {}, {}, {}};
  } catch (...) {
    return nullptr;
  }
}

POP3D_EXPORT pop3d_session* pop3d_session_clone(const pop3d_session* session) noexcept {
  if (session == nullptr) return nullptr;
  try {
    return new pop3d_session{session->session, {}, {}, {}};
  } catch (...) {
    return nullptr;
  }
}

POP3D_EXPORT void pop3d_session_free(pop3d_session* session) noexcept {
  delete session;
}

POP3D_EXPORT int pop3d_session_feed(pop3d_session* session, uint32_t direction, const uint8_t* data,
                                    size_t length, pop3d_event_callback callback,
                                    void* user_data) noexcept {
  if (session == nullptr || (data == nullptr && length > 0) || direction > 1)
    return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    CallbackHandler handler(*session, callback, user_data);
    session->session.feed(static_cast<Direction>(direction),
                          std::string_view(reinterpret_cast<const char*>(data), length), handler);
    return handler.stopped() ? POP3D_ERR_CALLBACK : POP3D_OK;
  });
}

POP3D_EXPORT int pop3d_session_gap(pop3d_session* session, uint32_t direction, uint64_t length,
                                   pop3d_event_callback callback, void* user_data) noexcept {
  if (session == nullptr || direction > 1) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    CallbackHandler handler(*session, callback, user_data);
    session->session.gap(static_cast<Direction>(direction), length, handler);
    return handler.stopped() ? POP3D_ERR_CALLBACK : POP3D_OK;
  });
}

POP3D_EXPORT int pop3d_session_finish(pop3d_session* session, pop3d_event_callback callback,
                                      void* user_data) noexcept {
  if (session == nullptr) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    CallbackHandler handler(*session, callback, user_data);
    session->session.finish(handler);
    return handler.stopped() ? POP3D_ERR_CALLBACK : POP3D_OK;
  });
}

POP3D_EXPORT int pop3d_session_add_password(pop3d_session* session, const char* user,
                                            size_t user_length, const char* password,
                                            size_t password_length) noexcept {
  if (session == nullptr || user == nullptr || password == nullptr)
    return POP3D_ERR_INVALID_ARGUMENT;
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
POP3D_EXPORT const char* pop3d_state_name(uint32_t state) noexcept {
  auto name = pop3decode::state_name(static_cast<pop3decode::State>(state));
  return name.empty() ? nullptr : name.data();
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
