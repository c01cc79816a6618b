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

constexpr std::array<std::string_view, 13> event_kind_names{
    "greeting", "command",     "status",   "data_line", "data_end", "sasl_server", "sasl_client",
    "state",    "auth_result", "unparsed", "skipped",   "tls",      "end"};

constexpr std::array<std::string_view, 21> command_names{
    "",     "USER", "PASS", "APOP", "AUTH", "STAT", "LIST", "RETR", "DELE", "NOOP",     "RSET",
    "QUIT", "TOP",  "UIDL", "CAPA", "STLS", "UTF8", "LANG", "LAST", "XTND", "(unknown)"};

constexpr std::array<std::string_view, 3> state_names{"AUTHORIZATION", "TRANSACTION", "UPDATE"};

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
  const auto* name = lookup(command_names, static_cast<uint32_t>(c));
  return name ? *name : std::string_view{};
}
std::string_view state_name(State s) noexcept {
  const auto* name = lookup(state_names, static_cast<uint32_t>(s));
  return name ? *name : std::string_view{};
}

}  // namespace pop3decode
