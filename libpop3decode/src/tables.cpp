// The anomaly, field, event, command and state tables, from the X-macros of pop3decode.h.
#include <array>

#include "pop3decode/event.hpp"

namespace pop3decode {
namespace {

struct AnomalyInfo {
  std::string_view name;
  std::string_view description;
  pop3d_severity severity;
  pop3d_anomaly_group group;
};

constexpr std::array<AnomalyInfo, POP3D_ANOMALY_COUNT> anomaly_table{{
#define POP3D_X(id, name, sev, group, desc) {name, desc, POP3D_SEVERITY_##sev, POP3D_GROUP_##group},
    POP3D_ANOMALY_MAP(POP3D_X)
#undef POP3D_X
}};

struct FieldInfo {
  std::string_view name;
  std::string_view description;
  FieldType type;
};

constexpr std::array<FieldInfo, POP3D_FIELD_COUNT> field_table{{
#define POP3D_X(id, name, type, desc) {name, desc, static_cast<FieldType>(POP3D_TYPE_##type)},
    POP3D_FIELD_MAP(POP3D_X)
#undef POP3D_X
}};

constexpr std::array<std::string_view, POP3D_EVENT_KIND_COUNT> event_kind_names{{
#define POP3D_X(id, name, desc) name,
    POP3D_EVENT_KIND_MAP(POP3D_X)
#undef POP3D_X
}};

// Index: the pop3d_command value (NONE first, UNKNOWN last).
constexpr std::array<CommandInfo, POP3D_CMD_COUNT> command_table{{
    {"", 0, 0, {}, 0, "", POP3D_MULTILINE_NEVER},
#define POP3D_X(id, verb, min, max, arg1, arg2, states, capa, multiline) \
  {verb,                                                                 \
   min,                                                                  \
   max,                                                                  \
   {POP3D_ARG_##arg1, POP3D_ARG_##arg2},                                 \
   POP3D_STATES_##states,                                                \
   capa,                                                                 \
   POP3D_MULTILINE_##multiline},
    POP3D_COMMAND_MAP(POP3D_X)
#undef POP3D_X
        {"(unknown)", 0, 255, {}, POP3D_STATES_ANY, "", POP3D_MULTILINE_NEVER},
}};

constexpr std::array<std::string_view, POP3D_STATE_COUNT> state_names{{
#define POP3D_X(id, name) name,
    POP3D_STATE_MAP(POP3D_X)
#undef POP3D_X
}};

constexpr std::array<std::string_view, POP3D_INDICATOR_COUNT> indicator_names{{
#define POP3D_X(id, name) name,
    POP3D_INDICATOR_MAP(POP3D_X)
#undef POP3D_X
}};

constexpr std::array<std::string_view, POP3D_RESPONSE_CODE_COUNT> response_code_names{{
    "",
#define POP3D_X(id, code, anomaly) code,
    POP3D_RESPONSE_CODE_MAP(POP3D_X)
#undef POP3D_X
        "(other)",
}};

struct AuthResultInfo {
  std::string_view name;
  std::string_view description;
};
constexpr std::array<AuthResultInfo, POP3D_AUTH_RESULT_COUNT> auth_result_table{{
#define POP3D_X(id, name, desc) {name, desc},
    POP3D_AUTH_RESULT_MAP(POP3D_X)
#undef POP3D_X
}};

template <typename Table>
auto lookup(const Table& table, uint32_t index) noexcept -> const typename Table::value_type* {
  return index < table.size() ? &table[index] : nullptr;
}

}  // namespace

std::string_view anomaly_name(Anomaly a) noexcept {
  const auto* info = lookup(anomaly_table, static_cast<uint32_t>(a));
  return info ? info->name : std::string_view{};
}
std::string_view anomaly_description(Anomaly a) noexcept {
  const auto* info = lookup(anomaly_table, static_cast<uint32_t>(a));
  return info ? info->description : std::string_view{};
}
pop3d_severity anomaly_severity(Anomaly a) noexcept {
  const auto* info = lookup(anomaly_table, static_cast<uint32_t>(a));
  return info ? info->severity : POP3D_SEVERITY_NOTE;
}
pop3d_anomaly_group anomaly_group(Anomaly a) noexcept {
  const auto* info = lookup(anomaly_table, static_cast<uint32_t>(a));
  return info ? info->group : POP3D_GROUP_PROTOCOL;
}
std::string_view field_name(Field f) noexcept {
  const auto* info = lookup(field_table, static_cast<uint32_t>(f));
  return info ? info->name : std::string_view{};
}
std::string_view field_description(Field f) noexcept {
  const auto* info = lookup(field_table, static_cast<uint32_t>(f));
  return info ? info->description : std::string_view{};
}
FieldType field_type(Field f) noexcept {
  const auto* info = lookup(field_table, static_cast<uint32_t>(f));
  return info ? info->type : FieldType::none;
}
std::string_view event_kind_name(EventKind k) noexcept {
  const auto* name = lookup(event_kind_names, static_cast<uint32_t>(k));
  return name ? *name : std::string_view{};
}
std::string_view command_name(Command c) noexcept {
  const auto* info = lookup(command_table, static_cast<uint32_t>(c));
  return info ? info->verb : std::string_view{};
}
const CommandInfo* command_info(Command c) noexcept {
  if (c == Command::none || c == Command::unknown) return nullptr;
  return lookup(command_table, static_cast<uint32_t>(c));
}
bool command_multiline(Command c, size_t argument_count) noexcept {
  const CommandInfo* info = command_info(c);
  if (!info) return false;
  switch (info->multiline) {
    case POP3D_MULTILINE_ALWAYS: return true;
    case POP3D_MULTILINE_WITHOUT_ARGS: return argument_count == 0;
    case POP3D_MULTILINE_NEVER: return false;
  }
  return false;
}
std::string_view state_name(State s) noexcept {
  const auto* name = lookup(state_names, static_cast<uint32_t>(s));
  return name ? *name : std::string_view{};
}

}  // namespace pop3decode

namespace pop3decode {
std::string_view indicator_name(Indicator i) noexcept {
  const auto* name = lookup(indicator_names, static_cast<uint32_t>(i));
  return name ? *name : std::string_view{};
}
std::string_view response_code_name(ResponseCode c) noexcept {
  const auto* name = lookup(response_code_names, static_cast<uint32_t>(c));
  return name ? *name : std::string_view{};
}
std::string_view auth_result_name(AuthResult r) noexcept {
  const auto* info = lookup(auth_result_table, static_cast<uint32_t>(r));
  return info ? info->name : std::string_view{};
}
std::string_view auth_result_description(AuthResult r) noexcept {
  const auto* info = lookup(auth_result_table, static_cast<uint32_t>(r));
  return info ? info->description : std::string_view{};
}
}  // namespace pop3decode
