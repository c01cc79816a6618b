// The plugin's event codec (plugin/event-codec.h) on its own: every event encoded for a frame
// decodes back to the same event, field by field.
//
// - Real events: every vector of tests/vectors is replayed through the C ABI, whole and cut
//   into pieces of 1, 2, 3, 7 and 64 bytes (each piece is one "frame", as the dissector sees a
//   TCP segment), so lines are found in the frame, begin in an earlier frame, or are stored.
// - Random events: made-up events whose lines, item texts and buffers are slices of the frame,
//   of the line, of a buffer, or unrelated bytes.
// - Damaged records: every truncation of every record decodes a prefix of its events and stops.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codec_compare.hpp"
#include "event-codec.h"
#include "pop3decode/pop3decode.h"
#include "vector_runner.hpp"

namespace {

using namespace codectest;

// How the line of each event was found, to show the test reaches every storage form.
struct Coverage {
  size_t in_frame = 0, prefix = 0, elsewhere = 0, none = 0, events = 0, records = 0;
};

// Encodes `events` for `frame`, decodes the record, compares; then every truncation.
void round_trip(const std::string& where, const pop3_codec_frame& frame,
                const std::vector<OwnedEvent>& events, Coverage& cov) {
  pop3_codec_buf buf{nullptr, 0, 0};
  pop3_codec_encoder enc;
  pop3_codec_encoder_init(&enc, &buf, &frame);
  for (const OwnedEvent& e : events) {
    // the copies must stay what the encoder sees: point the event at them
    pop3d_event ev = e.ev;
    ev.line = e.ev.line ? reinterpret_cast<const uint8_t*>(e.line.data()) : nullptr;
    ev.data = ev.data_length ? reinterpret_cast<const uint8_t*>(e.data.data()) : nullptr;
    std::vector<pop3d_item> items = e.items;
    for (size_t i = 0; i < items.size(); i++)
      items[i].text =
          e.text_null[i] ? nullptr : reinterpret_cast<const uint8_t*>(e.texts[i].data());
    std::vector<pop3d_buffer> buffers = e.buffers;
    for (size_t i = 0; i < buffers.size(); i++)
      buffers[i].data = reinterpret_cast<const uint8_t*>(e.buffer_data[i].data());
    ev.items = items.data();
    ev.buffers = buffers.data();
    ev.anomalies = e.anomalies.data();
    pop3_codec_encode_event(&enc, &ev, e.has_message);

    cov.events++;
    if (ev.line_length == 0)
      cov.none++;
    else if (ev.offset >= frame.base && ev.offset - frame.base + ev.line_length <= frame.length &&
             std::memcmp(frame.bytes + (ev.offset - frame.base), ev.line, ev.line_length) == 0)
      cov.in_frame++;
    else if (ev.offset < frame.base && frame.base - ev.offset < ev.line_length)
      cov.prefix++;
    else
      cov.elsewhere++;
  }
  cov.records++;

  for (size_t cut = buf.len + 1; cut-- > 0;) {
    Arena arena;
    pop3_codec_decoder dec;
    pop3_codec_decoder_init(&dec, buf.data, cut, &frame, Arena::alloc, &arena);
    pop3_codec_event got;
    size_t n = 0;
    while (pop3_codec_decode_event(&dec, &got)) {
      if (n >= events.size()) {
        fail(where, "more events decoded than encoded");
        break;
      }
      if (!same_event(where + " event " + std::to_string(n) + " of record cut at " +
                          std::to_string(cut) + "/" + std::to_string(buf.len),
                      events[n], got))
        break;
      n++;
    }
    if (cut == buf.len && n != events.size())
      fail(where,
           "decoded " + std::to_string(n) + " of " + std::to_string(events.size()) + " events");
    // Every truncation of the smaller records (quadratic: the larger ones only whole).
    if (buf.len > 1024) break;
  }
  pop3_codec_buf_free(&buf);
}

struct FeedCtx {
  std::vector<OwnedEvent>* events;
};

int collect(void* user_data, const pop3d_event* ev) {
  auto* ctx = static_cast<FeedCtx*>(user_data);
  ctx->events->emplace_back(*ev, ev->kind == POP3D_EVENT_DATA_END);
  return 0;
}

void replay_vector(const std::filesystem::path& path, size_t piece, Coverage& cov) {
  pop3test::Vector v = pop3test::load_vector(path.string());
  const pop3d_options options = pop3test::c_options(v);
  pop3d_session* session = pop3d_session_new(&options);
  for (const auto& [user, password] : v.passwords)
    pop3d_session_add_password(session, user.data(), user.size(), password.data(), password.size());
  std::string where = path.filename().string() + " in pieces of " + std::to_string(piece);
  for (const pop3test::Chunk& chunk : v.chunks) {
    uint32_t dir = static_cast<uint32_t>(chunk.direction);
    std::vector<OwnedEvent> events;
    FeedCtx ctx{&events};
    if (chunk.gap) {
      pop3_codec_frame frame{pop3d_session_offset(session, dir) + chunk.gap, nullptr, 0};
      pop3d_session_gap(session, dir, chunk.gap, collect, &ctx);
      round_trip(where, frame, events, cov);
      continue;
    }
    size_t step = piece ? piece : chunk.bytes.size();
    for (size_t at = 0; at < chunk.bytes.size(); at += step) {
      size_t n = std::min(step, chunk.bytes.size() - at);
      const auto* p = reinterpret_cast<const uint8_t*>(chunk.bytes.data()) + at;
      pop3_codec_frame frame{pop3d_session_offset(session, dir), p, n};
      events.clear();
      pop3d_session_feed(session, dir, p, n, collect, &ctx);
      round_trip(where, frame, events, cov);
    }
  }
  std::vector<OwnedEvent> events;
  FeedCtx ctx{&events};
  pop3d_session_finish(session, collect, &ctx);
  round_trip(where + " (finish)", pop3_codec_frame{0, nullptr, 0}, events, cov);
  pop3d_session_free(session);
}

// Made-up events: whatever the library might produce, and more.
void random_records(Coverage& cov) {
  std::mt19937_64 rng(20261202);
  auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
  std::string frame_bytes(300, '\0');
  for (int record = 0; record < 3000; record++) {
    for (char& c : frame_bytes) c = static_cast<char>(pick(256));
    const auto* fb = reinterpret_cast<const uint8_t*>(frame_bytes.data());
    pop3_codec_frame frame{pick(2) ? pick(1u << 20) : (uint64_t(1) << 62) + pick(100),
                           pick(8) ? fb : nullptr, 0};
    frame.length = frame.bytes ? pick(frame_bytes.size() + 1) : 0;
    std::vector<OwnedEvent> events;
    std::vector<std::string> scratch;
    size_t count = pick(6);
    for (size_t e = 0; e < count; e++) {
      pop3d_event ev{};
      std::string line;
      ev.kind = static_cast<uint32_t>(pick(128));
      ev.direction = static_cast<uint32_t>(pick(2));
      uint64_t where_line = pick(4);
      if (where_line == 0 && frame.length) {  // in the frame
        uint64_t at = pick(frame.length);
        line = frame_bytes.substr(at, pick(frame.length - at + 1));
        ev.offset = frame.base + at;
      } else if (where_line == 1 && frame.length && frame.base > 10) {  // began earlier
        uint64_t before = 1 + pick(10);
        line = std::string(before, 'x') + frame_bytes.substr(0, pick(frame.length + 1));
        ev.offset = frame.base - before;
      } else {  // anywhere, with any bytes
        line.resize(pick(40));
        for (char& c : line) c = static_cast<char>(pick(256));
        ev.offset = pick(2) ? frame.base + pick(1000) - 500 : rng();
      }
      ev.line_length = line.size();
      ev.length = pick(3) ? line.size() + pick(3) : rng();
      ev.request_id = pick(3) ? pick(5) : rng();
      ev.command = static_cast<uint32_t>(pick(3) ? pick(20) : rng());
      ev.piece = static_cast<uint32_t>(pick(4) ? 0 : rng());
      std::vector<pop3d_buffer> buffers(pick(4) ? 0 : 1 + pick(3));
      std::vector<std::string> buffer_data;
      for (pop3d_buffer& b : buffers) {
        std::string d(pick(30), '\0');
        for (char& c : d) c = static_cast<char>(pick(256));
        buffer_data.push_back(d);
        b.origin_offset = ev.offset + pick(50);
        b.origin_length = pick(3) ? pick(50) : rng();
      }
      std::vector<pop3d_item> items(pick(7));
      std::vector<std::string> texts;
      for (size_t i = 0; i < items.size(); i++) {
        pop3d_item& it = items[i];
        it.field = static_cast<uint32_t>(pick(3) ? pick(200) : rng());
        it.parent = i && pick(2) ? static_cast<int32_t>(pick(i)) : -1;
        it.source = static_cast<uint32_t>(pick(3) ? 0 : pick(buffers.size() + 2));
        it.flags = static_cast<uint32_t>(pick(3) ? 0 : pick(8));
        it.number = pick(2) ? 0 : (pick(2) ? pick(100) : rng());
        std::string text;
        const std::string* from = nullptr;
        if (it.source == 0)
          from = &line;
        else if (it.source <= buffers.size())
          from = &buffer_data[it.source - 1];
        uint64_t base = it.source == 0 ? ev.offset : 0;
        if (from && !from->empty() && pick(3)) {  // a slice of its source
          uint64_t at = pick(from->size());
          text = from->substr(at, pick(from->size() - at + 1));
          it.offset = base + at;
          it.length = pick(2) ? text.size() : text.size() + pick(5);
        } else {
          text.resize(pick(3) ? pick(20) : 0);
          for (char& c : text) c = static_cast<char>(pick(256));
          it.offset = pick(2) ? base + pick(100) : rng();
          it.length = pick(2) ? text.size() : rng();
        }
        texts.push_back(text);
      }
      std::vector<pop3d_anomaly_hit> hits(pick(3) ? 0 : 1 + pick(3));
      for (pop3d_anomaly_hit& h : hits) {
        h.anomaly = static_cast<uint32_t>(pick(100));
        h.offset = pick(2) ? ev.offset + pick(50) : rng();
        h.length = pick(50);
      }
      // The unstuffed data: the line, the line after its first byte, or anything
      std::string data;
      switch (pick(5)) {
        case 0: data = line + "\r\n"; break;
        case 1: data = line.empty() ? "\n" : line.substr(1) + "\n"; break;
        case 2: data = line; break;
        case 3:
          data.resize(pick(20));
          for (char& c : data) c = static_cast<char>(pick(256));
          break;
        default: break;
      }
      ev.data_length = data.size();
      ev.data = reinterpret_cast<const uint8_t*>(data.data());
      // Point the event at these copies, then copy it.
      scratch.push_back(line);
      ev.line = line.empty() && pick(2) ? nullptr : reinterpret_cast<const uint8_t*>(line.data());
      for (size_t i = 0; i < items.size(); i++)
        items[i].text = texts[i].empty() && pick(2)
                            ? nullptr
                            : reinterpret_cast<const uint8_t*>(texts[i].data());
      for (size_t i = 0; i < buffers.size(); i++)
        buffers[i].data = reinterpret_cast<const uint8_t*>(buffer_data[i].data());
      ev.items = items.data();
      ev.item_count = items.size();
      ev.buffers = buffers.data();
      ev.buffer_count = buffers.size();
      ev.anomalies = hits.data();
      ev.anomaly_count = hits.size();
      events.emplace_back(ev, static_cast<int>(pick(2)));
    }
    round_trip("random record " + std::to_string(record), frame, events, cov);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
    return 2;
  }
  Coverage real;
  size_t vectors = 0;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (entry.path().extension() != ".vec") continue;
    vectors++;
    for (size_t piece : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(7), size_t(64)})
      replay_vector(entry.path(), piece, real);
  }
  Coverage random;
  random_records(random);
  std::printf(
      "vectors: %zu; real events %zu in %zu records (line in frame %zu, began earlier %zu, "
      "stored %zu, none %zu); random events %zu in %zu records\n",
      vectors, real.events, real.records, real.in_frame, real.prefix, real.elsewhere, real.none,
      random.events, random.records);
  if (vectors == 0) fail("setup", "no vectors found");
  // Each form of storing a line must have been exercised by the real events.
  if (!real.in_frame || !real.prefix || !real.elsewhere || !real.none)
    fail("coverage", "a form of storing lines was not reached");
  if (failures) std::fprintf(stderr, "%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
