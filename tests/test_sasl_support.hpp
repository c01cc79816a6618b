// Drives a sasl::Exchange the way the session does: one event per step, the decoded payload in
// a buffer, the step's subtree item as parent.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catch_compat.hpp"
#include "pop3decode/event.hpp"
#include "pop3decode/sasl.hpp"
#include "pop3decode/sasl_exchange.hpp"

namespace sasl_test {

using pop3decode::Anomaly;
using pop3decode::EventBuilder;
using pop3decode::Field;
using pop3decode::Item;
namespace sasl = pop3decode::sasl;

inline std::string bytes(const char* data, size_t size) {
  return std::string(data, size);
}

class Harness {
 public:
  static constexpr uint64_t origin_offset = 1000;
  static constexpr uint64_t origin_length = 40;

  explicit Harness(std::string_view mechanism) : exchange(mechanism) {}

  void client(const std::string& payload) { run(payload, true); }
  void server(const std::string& payload) { run(payload, false); }

  // Items of the last step other than the step's own subtree item.
  std::vector<Item> items() const {
    std::vector<Item> result;
    for (const Item& item : out.items())
      if (item.field != Field::SASL) result.push_back(item);
    return result;
  }

  const Item* find(Field field, size_t nth = 0) const {
    for (const Item& item : out.items())
      if (item.field == field && nth-- == 0) return &item;
    return nullptr;
  }

  size_t count(Field field) const {
    size_t n = 0;
    for (const Item& item : out.items())
      if (item.field == field) ++n;
    return n;
  }

  size_t anomaly_count(Anomaly anomaly) const {
    size_t n = 0;
    for (const auto& hit : out.anomalies())
      if (hit.anomaly == anomaly) ++n;
    return n;
  }
  bool has(Anomaly anomaly) const { return anomaly_count(anomaly) > 0; }
  bool clean() const { return out.anomalies().empty(); }

  // Checks one decoded item: text, position in the payload, and where it hangs.
  void expect(Field field, std::string_view text, uint64_t offset, uint64_t length,
              uint32_t flags = 0, size_t nth = 0) const {
    INFO("field " << static_cast<uint32_t>(field) << " #" << nth);
    const Item* item = find(field, nth);
    REQUIRE(item != nullptr);
    CHECK(item->text == text);
    CHECK(item->offset == offset);
    CHECK(item->length == length);
    CHECK(item->flags == flags);
    CHECK(item->source == source_);
    CHECK(item->parent == parent_);
    // Values of the payload's own bytes point into the step's buffer.
    CHECK(item->offset + item->length <= out.buffer(source_).size());
  }
  void expect_number(Field field, uint64_t number, uint64_t offset, uint64_t length) const {
    INFO("field " << static_cast<uint32_t>(field));
    const Item* item = find(field);
    REQUIRE(item != nullptr);
    CHECK(item->number == number);
    CHECK(item->offset == offset);
    CHECK(item->length == length);
    CHECK(item->parent == parent_);
  }

  sasl::Exchange exchange;
  EventBuilder out;

 private:
  void run(const std::string& payload, bool from_client) {
    out.clear();
    parent_ = out.add(Field::SASL, -1, 0, origin_offset, origin_length);
    source_ = out.add_buffer(payload, origin_offset, origin_length);
    const sasl::Step step{out, source_, parent_, origin_offset, origin_length};
    if (from_client)
      exchange.client_step(out.buffer(source_), step);
    else
      exchange.server_step(out.buffer(source_), step);
    for (const auto& hit : out.anomalies()) {
      CHECK(hit.offset == origin_offset);
      CHECK(hit.length == origin_length);
    }
  }

  int32_t parent_ = -1;
  uint32_t source_ = 0;
};

}  // namespace sasl_test
