// Internal (not installed): builds the items, buffers and anomalies of one event.
#pragma once

#include <deque>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/event.hpp"

namespace pop3decode {

// Accumulates the items, buffers and anomalies of one event. Strings handed to own() and
// add_buffer() are kept until clear(), at stable addresses.
class EventBuilder {
 public:
  void clear() noexcept {
    items_.clear();
    buffers_.clear();
    anomalies_.clear();
    secret_ = false;
    if (!pool_.empty()) pool_.clear();
  }
  // Whether an item added since clear() is a secret.
  bool has_secret() const noexcept { return secret_; }

  // A field with a position. For STRING/BYTES fields `text` is the value (usually the bytes at
  // that position); for UINT/BOOL, `number`. Returns the item's index (a parent for others).
  int32_t add(Field field, int32_t parent, uint32_t source, uint64_t offset, uint64_t length,
              std::string_view text = {}, uint64_t number = 0, uint32_t flags = 0) {
    secret_ = secret_ || (flags & item_secret) != 0;
    items_.push_back(
        Item{field, parent, source, flags, offset, length, number, text, field_type_of(field)});
    return static_cast<int32_t>(items_.size() - 1);
  }
  int32_t add_number(Field field, int32_t parent, uint32_t source, uint64_t offset, uint64_t length,
                     uint64_t number, uint32_t flags = 0) {
    return add(field, parent, source, offset, length, {}, number, flags);
  }
  // A derived value with no position of its own.
  int32_t add_generated(Field field, int32_t parent, std::string_view text, uint64_t number = 0,
                        uint32_t flags = 0) {
    return add(field, parent, 0, 0, 0, text, number, flags | item_generated);
  }

  // Keeps a copy of `s` until clear() and returns a view of it.
  std::string_view own(std::string s) {
    pool_.push_back(std::move(s));
    return pool_.back();
  }
  // Adds a decoded payload; returns its source id (1-based) for items that point into it.
  uint32_t add_buffer(std::string bytes, uint64_t origin_offset, uint64_t origin_length) {
    buffers_.push_back(Buffer{own(std::move(bytes)), origin_offset, origin_length});
    return static_cast<uint32_t>(buffers_.size());
  }
  std::string_view buffer(uint32_t source) const noexcept {
    return source == 0 || source > buffers_.size() ? std::string_view{} : buffers_[source - 1].data;
  }

  // The type of a field, inline (every item records it).
  static constexpr FieldType field_type_of(Field field) noexcept {
    constexpr FieldType types[] = {
#define POP3D_X(id, name, type, desc) static_cast<FieldType>(POP3D_TYPE_##type),
        POP3D_FIELD_MAP(POP3D_X)
#undef POP3D_X
    };
    const auto index = static_cast<size_t>(field);
    return index < std::size(types) ? types[index] : FieldType::none;
  }

  void anomaly(Anomaly a, uint64_t offset, uint64_t length) {
    anomalies_.push_back(AnomalyHit{a, offset, length});
  }
  void remove_anomaly(Anomaly a) noexcept {
    std::erase_if(anomalies_, [a](const AnomalyHit& hit) { return hit.anomaly == a; });
  }

  std::span<const Item> items() const noexcept {
    return items_;
  }
  std::span<const Buffer> buffers() const noexcept {
    return buffers_;
  }
  std::span<const AnomalyHit> anomalies() const noexcept {
    return anomalies_;
  }

 private:
  std::vector<Item> items_;
  std::vector<Buffer> buffers_;
  std::vector<AnomalyHit> anomalies_;
  std::deque<std::string> pool_;
  bool secret_ = false;
};

}  // namespace pop3decode
