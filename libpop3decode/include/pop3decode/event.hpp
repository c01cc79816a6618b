// Events, items and anomalies: what the decoder reports. C++ view of the tables in pop3decode.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/pop3decode.h"

namespace pop3decode {

enum class Direction : uint8_t {
  client_to_server = POP3D_CLIENT_TO_SERVER,
  server_to_client = POP3D_SERVER_TO_CLIENT,
};

enum class Anomaly : uint32_t {
#define POP3D_X(id, name, sev, group, desc) id = POP3D_ANOMALY_##id,
  POP3D_ANOMALY_MAP(POP3D_X)
#undef POP3D_X
};

enum class Field : uint32_t {
#define POP3D_X(id, name, type, desc) id = POP3D_FIELD_##id,
  POP3D_FIELD_MAP(POP3D_X)
#undef POP3D_X
};

enum class EventKind : uint32_t {
  greeting = POP3D_EVENT_GREETING,
  command = POP3D_EVENT_COMMAND,
  status = POP3D_EVENT_STATUS,
  data_line = POP3D_EVENT_DATA_LINE,
  data_end = POP3D_EVENT_DATA_END,
  sasl_server = POP3D_EVENT_SASL_SERVER,
  sasl_client = POP3D_EVENT_SASL_CLIENT,
  state = POP3D_EVENT_STATE,
  auth_result = POP3D_EVENT_AUTH_RESULT,
  unparsed = POP3D_EVENT_UNPARSED,
  skipped = POP3D_EVENT_SKIPPED,
  tls = POP3D_EVENT_TLS,
  end = POP3D_EVENT_END,
  transaction = POP3D_EVENT_TRANSACTION,
  data_chunk = POP3D_EVENT_DATA_CHUNK,  // see POP3D_EVENT_DATA_CHUNK in pop3decode.h
};
static_assert(POP3D_EVENT_KIND_COUNT == 15, "EventKind lists every row of POP3D_EVENT_KIND_MAP");

// Bit of an event kind in Options::wanted_events.
constexpr uint32_t event_bit(EventKind kind) noexcept {
  return uint32_t(1) << static_cast<uint32_t>(kind);
}
inline constexpr uint32_t all_events = POP3D_EVENTS_ALL;
// What wanted_events 0 means, and the default: all but data_chunk.
inline constexpr uint32_t default_events = POP3D_EVENTS_DEFAULT;

enum class Command : uint32_t {
  none = POP3D_CMD_NONE,
  user = POP3D_CMD_USER,
  pass = POP3D_CMD_PASS,
  apop = POP3D_CMD_APOP,
  auth = POP3D_CMD_AUTH,
  stat = POP3D_CMD_STAT,
  list = POP3D_CMD_LIST,
  retr = POP3D_CMD_RETR,
  dele = POP3D_CMD_DELE,
  noop = POP3D_CMD_NOOP,
  rset = POP3D_CMD_RSET,
  quit = POP3D_CMD_QUIT,
  top = POP3D_CMD_TOP,
  uidl = POP3D_CMD_UIDL,
  capa = POP3D_CMD_CAPA,
  stls = POP3D_CMD_STLS,
  utf8 = POP3D_CMD_UTF8,
  lang = POP3D_CMD_LANG,
  last = POP3D_CMD_LAST,
  xtnd = POP3D_CMD_XTND,
  unknown = POP3D_CMD_UNKNOWN,
};
static_assert(POP3D_CMD_COUNT == 21, "Command lists every row of POP3D_COMMAND_MAP");

enum class Indicator : uint32_t {
  none = POP3D_INDICATOR_NONE,
  ok = POP3D_INDICATOR_OK,
  err = POP3D_INDICATOR_ERR,
};

enum class ResponseCode : uint32_t {
  none = POP3D_RESPONSE_CODE_NONE,
  in_use = POP3D_RESPONSE_CODE_IN_USE,
  login_delay = POP3D_RESPONSE_CODE_LOGIN_DELAY,
  sys_temp = POP3D_RESPONSE_CODE_SYS_TEMP,
  sys_perm = POP3D_RESPONSE_CODE_SYS_PERM,
  auth = POP3D_RESPONSE_CODE_AUTH,
  utf8 = POP3D_RESPONSE_CODE_UTF8,
  other = POP3D_RESPONSE_CODE_OTHER,
};

enum class AuthResult : uint32_t {
  none = POP3D_AUTH_NONE,
  success = POP3D_AUTH_SUCCESS,
  failure = POP3D_AUTH_FAILURE,
  refused = POP3D_AUTH_REFUSED,
  cancelled = POP3D_AUTH_CANCELLED,
  aborted = POP3D_AUTH_ABORTED,
};
static_assert(POP3D_AUTH_RESULT_COUNT == 6, "AuthResult lists every row of POP3D_AUTH_RESULT_MAP");

// What the command table (POP3D_COMMAND_MAP) knows of one command.
struct CommandInfo {
  std::string_view verb;
  uint8_t min_args = 0;
  uint8_t max_args = 0;  // 255: the rest of the line is one argument
  pop3d_arg_kind args[2]{};
  uint32_t states = 0;          // POP3D_STATES_*
  std::string_view capability;  // "" when none is needed
  pop3d_multiline multiline = POP3D_MULTILINE_NEVER;
};
// The row of a command; nullptr for none and unknown.
const CommandInfo* command_info(Command) noexcept;
// Whether a +OK to the command sent with `argument_count` arguments starts multi-line data.
bool command_multiline(Command, size_t argument_count) noexcept;

enum class State : uint32_t {
  authorization = POP3D_STATE_AUTHORIZATION,
  transaction = POP3D_STATE_TRANSACTION,
  update = POP3D_STATE_UPDATE,
};

enum class FieldType : uint32_t {
  none = POP3D_TYPE_NONE,
  string = POP3D_TYPE_STRING,
  uint = POP3D_TYPE_UINT,
  boolean = POP3D_TYPE_BOOL,
  bytes = POP3D_TYPE_BYTES,
};

inline constexpr uint32_t item_generated = POP3D_ITEM_GENERATED;
inline constexpr uint32_t item_secret = POP3D_ITEM_SECRET;
inline constexpr uint32_t event_secret = POP3D_EVENT_SECRET;

// Static table look-ups (the strings live forever). Unknown values give "".
POP3D_EXPORT std::string_view anomaly_name(Anomaly) noexcept;
POP3D_EXPORT std::string_view anomaly_description(Anomaly) noexcept;
POP3D_EXPORT pop3d_severity anomaly_severity(Anomaly) noexcept;
POP3D_EXPORT pop3d_anomaly_group anomaly_group(Anomaly) noexcept;
POP3D_EXPORT std::string_view field_name(Field) noexcept;
POP3D_EXPORT std::string_view field_description(Field) noexcept;
POP3D_EXPORT FieldType field_type(Field) noexcept;
POP3D_EXPORT std::string_view event_kind_name(EventKind) noexcept;
POP3D_EXPORT std::string_view command_name(Command) noexcept;
POP3D_EXPORT std::string_view state_name(State) noexcept;
POP3D_EXPORT std::string_view indicator_name(Indicator) noexcept;
POP3D_EXPORT std::string_view response_code_name(ResponseCode) noexcept;
POP3D_EXPORT std::string_view auth_result_name(AuthResult) noexcept;
POP3D_EXPORT std::string_view auth_result_description(AuthResult) noexcept;

// One decoded field. `text` is borrowed like everything in an Event.
struct Item {
  Field field{};
  int32_t parent = -1;  // index into Event::items, or -1
  uint32_t source = 0;  // 0: the stream; n > 0: Event::buffers[n - 1]
  uint32_t flags = 0;   // item_generated, item_secret
  uint64_t offset = 0;  // absolute stream offset (source 0) or offset in the buffer
  uint64_t length = 0;
  uint64_t number = 0;    // UINT and BOOL values
  std::string_view text;  // STRING and BYTES values
  FieldType type{};       // field_type(field)
};

struct AnomalyHit {
  Anomaly anomaly{};
  uint64_t offset = 0;  // absolute stream offset in the event's direction
  uint64_t length = 0;
};

// A decoded payload (base64-decoded SASL data) that items with source > 0 point into.
struct Buffer {
  std::string_view data;
  uint64_t origin_offset = 0;  // where the encoded text stands in the stream
  uint64_t origin_length = 0;
};

inline constexpr uint32_t transaction_unanswered = POP3D_TRANSACTION_UNANSWERED;
inline constexpr uint32_t transaction_cut = POP3D_TRANSACTION_CUT;
inline constexpr uint32_t transaction_multiline = POP3D_TRANSACTION_MULTILINE;
inline constexpr uint32_t transaction_message = POP3D_TRANSACTION_MESSAGE;
inline constexpr uint32_t transaction_lines = POP3D_TRANSACTION_LINES;
inline constexpr uint32_t transaction_octets = POP3D_TRANSACTION_OCTETS;
inline constexpr uint32_t transaction_verified = POP3D_TRANSACTION_VERIFIED;
inline constexpr uint32_t transaction_mismatch = POP3D_TRANSACTION_MISMATCH;
inline constexpr uint32_t transaction_answer_unknown = POP3D_TRANSACTION_ANSWER_UNKNOWN;

// A command and its complete answer (EventKind::transaction); see pop3d_transaction.
struct Transaction {
  uint64_t request_id = 0;
  Command command = Command::none;
  uint32_t flags = 0;  // transaction_*
  uint64_t command_offset = 0;
  uint64_t response_offset = 0;
  uint64_t message = 0;
  uint64_t lines = 0;
  std::string_view argument;  // USER/APOP name, AUTH mechanism, LANG tag, XTND text, unknown verb
  Indicator indicator = Indicator::none;
  ResponseCode response_code = ResponseCode::none;
  std::string_view code;  // between the brackets
  std::string_view description;
  uint64_t announced_octets = 0;
  uint64_t data_octets = 0;
  uint64_t data_lines = 0;
  AuthResult auth_result = AuthResult::none;
  uint32_t sasl_steps = 0;
  std::string_view mechanism;  // "USER/PASS", "APOP" or the SASL mechanism
  std::string_view authcid;
  std::string_view authzid;
};

// Everything an Event points to is valid only during the handler call.
struct Event {
  EventKind kind{};
  Direction direction{};
  uint64_t offset = 0;      // absolute stream offset of the first byte
  uint64_t length = 0;      // wire bytes including the line end
  std::string_view line;    // the wire line without its end
  std::string_view data;    // DATA_LINE: unstuffed line plus its own line end; DATA_CHUNK: lines
  uint64_t request_id = 0;  // 1-based number of the command this belongs to; 0 if none
  Command command = Command::none;
  uint32_t piece = 0;  // 0: whole line; 1, 2, ...: pieces of an over-long line
  std::span<const Item> items;
  std::span<const Buffer> buffers;
  std::span<const AnomalyHit> anomalies;
  uint32_t flags = 0;                        // event_secret
  const Transaction* transaction = nullptr;  // TRANSACTION events only

  // First item of a field, or nullptr.
  const Item* find(Field f) const noexcept {
    for (const Item& item : items)
      if (item.field == f) return &item;
    return nullptr;
  }
  bool has_anomaly(Anomaly a) const noexcept {
    for (const AnomalyHit& hit : anomalies)
      if (hit.anomaly == a) return true;
    return false;
  }
};

class POP3D_EXPORT EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual void on_event(const Event& event) = 0;
};

}  // namespace pop3decode
