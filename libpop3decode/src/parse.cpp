// Single-line parsers: commands, status lines, response codes, listings, capabilities.
#include "pop3decode/parse.hpp"

#include <array>

#include "scan.hpp"

namespace pop3decode {
namespace {

constexpr char to_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? char(c - 32) : c;
}
constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Splits off the next space-separated word. Runs of spaces count as one separator (servers
// and clients are lenient here; RFC 1939 asks for a single space).
struct Word {
  std::string_view text;
  size_t position = 0;  // in the line
};

class Words {
 public:
  Words(std::string_view line, size_t start) : line_(line), pos_(start) {}
  std::optional<Word> next() noexcept {
    while (pos_ < line_.size() && line_[pos_] == ' ') ++pos_;
    if (pos_ >= line_.size()) return std::nullopt;
    size_t begin = pos_;
    pos_ = scan::find(line_, pos_, ' ');
    return Word{line_.substr(begin, pos_ - begin), begin};
  }
  // Whatever is left after the current position, separators stripped from the front.
  Word rest() const noexcept {
    size_t p = pos_;
    while (p < line_.size() && line_[p] == ' ') ++p;
    return Word{line_.substr(p), p};
  }

 private:
  std::string_view line_;
  size_t pos_;
};

struct CommandSpec {
  std::string_view verb;
  Command command;
  uint8_t min_args;
  uint8_t max_args;  // 255: the rest of the line is one argument (USER, PASS, XTND)
  pop3d_arg_kind args[2];
};

// The rows of POP3D_COMMAND_MAP, in pop3d_command order.
constexpr std::array<CommandSpec, POP3D_CMD_UNKNOWN - 1> command_specs{{
#define POP3D_X(id, verb, min, max, arg1, arg2, states, capa, multiline) \
  {verb, Command(POP3D_CMD_##id), min, max, {POP3D_ARG_##arg1, POP3D_ARG_##arg2}},
    POP3D_COMMAND_MAP(POP3D_X)
#undef POP3D_X
}};

// command_specs[i] describes the Command numbered i + 1, and every verb has 3 or 4 letters
// (find_spec and command_from_verb rely on both).
constexpr bool specs_well_formed() {
  for (size_t i = 0; i < command_specs.size(); ++i) {
    if (static_cast<size_t>(command_specs[i].command) != i + 1) return false;
    if (command_specs[i].verb.size() != 3 && command_specs[i].verb.size() != 4) return false;
  }
  return true;
}
static_assert(specs_well_formed());

const CommandSpec* find_spec(Command c) noexcept {
  const auto index = static_cast<size_t>(c) - 1;  // none (0) wraps around
  return index < command_specs.size() ? &command_specs[index] : nullptr;
}

// A verb of up to 7 bytes as one number: its bytes upper-cased (as to_upper does) and its
// length, so that equal keys mean iequals() verbs. scan::upper_key computes the same.
constexpr uint64_t verb_key(std::string_view verb) noexcept {
  uint64_t key = uint64_t(verb.size()) << 56;
  for (size_t i = 0; i < verb.size() && i < 7; ++i)
    key |= uint64_t(static_cast<unsigned char>(to_upper(verb[i]))) << (8 * i);
  return key;
}

constexpr std::array<uint64_t, command_specs.size()> make_verb_keys() {
  std::array<uint64_t, command_specs.size()> keys{};
  for (size_t i = 0; i < command_specs.size(); ++i) keys[i] = verb_key(command_specs[i].verb);
  return keys;
}
constexpr std::array<uint64_t, command_specs.size()> verb_keys = make_verb_keys();

// A perfect hash of the verb keys: slot (key * multiplier) >> 58 of 64, the multiplier found
// at compile time.
constexpr size_t verb_slot(uint64_t key, uint64_t multiplier) noexcept {
  return size_t((key * multiplier) >> 58);
}
constexpr uint64_t find_verb_multiplier() {
  for (uint64_t k = 1; k <= 4096; ++k) {
    const uint64_t m = (k * 0x9E3779B97F4A7C15ULL) | 1;  // candidates spread over all bits
    uint64_t used = 0;
    bool clash = false;
    for (uint64_t key : verb_keys) {
      const uint64_t bit = uint64_t(1) << verb_slot(key, m);
      clash = clash || (used & bit) != 0;
      used |= bit;
    }
    if (!clash) return m;
  }
  return 0;
}
constexpr uint64_t verb_multiplier = find_verb_multiplier();
static_assert(verb_multiplier != 0);

// Slot -> 1 + index into command_specs, 0 for none.
constexpr std::array<uint8_t, 64> make_verb_slots() {
  std::array<uint8_t, 64> slots{};
  for (size_t i = 0; i < verb_keys.size(); ++i)
    slots[verb_slot(verb_keys[i], verb_multiplier)] = uint8_t(i + 1);
  return slots;
}
constexpr std::array<uint8_t, 64> verb_slots = make_verb_slots();

// RFC 5646 language tag, loosely: ALPHA/DIGIT/"-", 1..35 characters.
bool is_language_tag(std::string_view tag) noexcept {
  if (tag.empty() || tag.size() > 35) return false;
  for (char c : tag) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (to_upper(a[i]) != to_upper(b[i])) return false;
  return true;
}

std::optional<uint64_t> parse_decimal(std::string_view digits) noexcept {
  if (digits.empty() || digits.size() > 19) return std::nullopt;  // 19 digits always fit
  uint64_t value = 0;
  for (char c : digits) {
    const unsigned digit = static_cast<unsigned char>(c) - unsigned('0');
    if (digit > 9) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

Command command_from_verb(std::string_view verb) noexcept {
  if (verb.size() == 3 || verb.size() == 4) {
    const uint64_t key =
        verb.size() == 4 ? scan::upper_key<4>(verb.data()) : scan::upper_key<3>(verb.data());
    const size_t entry = verb_slots[verb_slot(key, verb_multiplier)];
    if (entry != 0 && verb_keys[entry - 1] == key) return command_specs[entry - 1].command;
  }
  return verb.empty() ? Command::none : Command::unknown;
}

ParsedCommand parse_command(std::string_view line, uint64_t offset, EventBuilder& out,
                            int32_t* request_item) {
  ParsedCommand result;
  const int32_t request = out.add(Field::REQUEST, -1, 0, offset, line.size(), line);
  if (request_item) *request_item = request;

  Words words(line, 0);
  auto verb = words.next();
  if (!verb) {
    out.anomaly(Anomaly::COMMAND_EMPTY, offset, line.size());
    return result;
  }
  result.verb = verb->text;
  result.command = command_from_verb(verb->text);
  // A known verb is named in upper case whatever case was sent; an unknown one as sent.
  const std::string_view verb_text =
      result.command == Command::unknown ? verb->text : command_name(result.command);
  out.add(Field::REQUEST_COMMAND, request, 0, offset + verb->position, verb->text.size(),
          verb_text);
  Word rest = words.rest();
  if (!rest.text.empty()) {
    result.parameter = rest.text;
    // PASS's parameter is the password: every copy of it is flagged.
    out.add(Field::REQUEST_PARAMETER, request, 0, offset + rest.position, rest.text.size(),
            rest.text, 0, result.command == Command::pass ? item_secret : 0);
  }
  if (result.command == Command::unknown) {
    out.anomaly(Anomaly::COMMAND_UNKNOWN, offset + verb->position, verb->text.size());
    return result;
  }

  const CommandSpec* spec = find_spec(result.command);
  // Arguments: the rest-of-line commands take it whole; the others are split into words.
  std::array<Word, 3> args{};
  uint32_t count = 0;
  if (spec->max_args == 255) {
    if (!rest.text.empty()) {
      args[0] = rest;
      count = 1;
    }
  } else {
    Words arg_words(line, verb->position + verb->text.size());
    while (auto w = arg_words.next()) {
      if (count < args.size()) args[count] = *w;
      ++count;
    }
  }
  result.argument_count = count;
  const uint64_t line_offset = offset;
  auto arg_offset = [&](const Word& w) { return line_offset + w.position; };

  // AUTH's second argument is the initial response: count it apart from the rest.
  if (count < spec->min_args || count > spec->max_args) {
    out.anomaly(Anomaly::COMMAND_ARG_COUNT, offset, line.size());
  }

  // Each argument is read by the kind the command table gives its position.
  auto message_number = [&](const Word& w) {
    auto n = parse_decimal(w.text);
    if (!n) {
      out.anomaly(Anomaly::COMMAND_ARG_INVALID, arg_offset(w), w.text.size());
      return;
    }
    if (*n == 0) {
      // RFC 1939 section 5: message numbers start at 1.
      out.anomaly(Anomaly::COMMAND_ARG_RANGE, arg_offset(w), w.text.size());
      return;
    }
    result.message = *n;
    result.has_message = true;
    out.add_number(Field::MSG_NUMBER, request, 0, arg_offset(w), w.text.size(), *n);
  };
  const bool apop = result.command == Command::apop;
  for (size_t i = 0; i < 2 && i < count; ++i) {
    const Word& w = args[i];
    const uint64_t at = arg_offset(w);
    switch (spec->args[i]) {
      case POP3D_ARG_NAME:
        result.name = w.text;
        result.name_offset = at;
        if (apop) out.add(Field::APOP_NAME, request, 0, at, w.text.size(), w.text);
        out.add(Field::AUTH_USERNAME, request, 0, at, w.text.size(), w.text);
        break;
      case POP3D_ARG_SECRET:
        result.password = w.text;
        result.password_offset = at;
        out.add(Field::AUTH_PASSWORD, request, 0, at, w.text.size(), w.text, 0, item_secret);
        break;
      case POP3D_ARG_DIGEST: {
        result.digest = w.text;
        result.digest_offset = at;
        out.add(Field::APOP_DIGEST, request, 0, at, w.text.size(), w.text);
        out.add(Field::AUTH_SECRET, request, 0, at, w.text.size(), w.text, 0, item_secret);
        bool hex = w.text.size() == 32;
        for (char c : w.text) hex = hex && is_hex(c);
        if (!hex) out.anomaly(Anomaly::APOP_DIGEST_INVALID, at, w.text.size());
        break;
      }
      case POP3D_ARG_MECHANISM:
        result.mechanism = w.text;
        result.mechanism_offset = at;
        out.add(Field::SASL_MECHANISM, request, 0, at, w.text.size(), w.text);
        break;
      case POP3D_ARG_INITIAL_RESPONSE:
        result.initial_response = w.text;
        result.initial_response_offset = at;
        result.has_initial_response = true;
        break;
      case POP3D_ARG_MESSAGE: message_number(w); break;
      case POP3D_ARG_LINES:
        if (auto n = parse_decimal(w.text)) {
          result.lines = *n;
          result.has_lines = true;
          out.add_number(Field::REQUEST_LINES, request, 0, at, w.text.size(), *n);
        } else {
          out.anomaly(Anomaly::COMMAND_ARG_INVALID, at, w.text.size());
        }
        break;
      case POP3D_ARG_LANGUAGE:
        result.language = w.text;
        out.add(Field::REQUEST_LANG, request, 0, at, w.text.size(), w.text);
        if (w.text != "*" && !is_language_tag(w.text))
          out.anomaly(Anomaly::COMMAND_ARG_INVALID, at, w.text.size());
        break;
      case POP3D_ARG_TEXT: result.text = w.text; break;
      case POP3D_ARG_NONE: break;
    }
  }
  return result;
}

bool looks_like_status(std::string_view line) noexcept {
  // Most lines asked about are data lines: one byte tells nearly all of them apart.
  if (line.empty() || (line[0] != '+' && line[0] != '-')) return false;
  auto starts = [&](std::string_view word) {
    if (line.size() < word.size()) return false;
    return iequals(line.substr(0, word.size()), word);
  };
  return starts("+OK") || starts("-ERR") || starts("+ERR") || starts("-OK");
}

namespace {

struct KnownCode {
  std::string_view code;
  ResponseCode kind;
  Anomaly notice;
};
constexpr KnownCode known_codes[] = {
#define POP3D_X(id, code, anomaly) {code, ResponseCode(POP3D_RESPONSE_CODE_##id), Anomaly::anomaly},
    POP3D_RESPONSE_CODE_MAP(POP3D_X)
#undef POP3D_X
};

// RFC 2449 section 8: rchar is any printable but "/" and "]".
bool is_rchar(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7F && c != '/' && c != ']';
}

}  // namespace

ResponseCode parse_response_code(std::string_view code, uint64_t offset, EventBuilder& out,
                                 int32_t parent) {
  // Codes such as "LOGIN-DELAY 300" are not in RFC 2449, but servers add arguments after a
  // space; keep them apart from the hierarchy.
  std::string_view levels = code;
  size_t space = code.find(' ');
  if (space != std::string_view::npos) {
    levels = code.substr(0, space);
    std::string_view args = code.substr(space + 1);
    out.add(Field::RESPONSE_CODE_ARGS, parent, 0, offset + space + 1, args.size(), args);
  }
  bool malformed = levels.empty();
  size_t start = 0;
  while (start <= levels.size()) {
    size_t slash = levels.find('/', start);
    size_t end = slash == std::string_view::npos ? levels.size() : slash;
    std::string_view level = levels.substr(start, end - start);
    if (level.empty()) malformed = true;
    for (char c : level) malformed = malformed || !is_rchar(c);
    out.add(Field::RESPONSE_CODE_LEVEL, parent, 0, offset + start, level.size(), level);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (malformed) {
    out.anomaly(Anomaly::RESPONSE_CODE_MALFORMED, offset, code.size());
    return ResponseCode::other;
  }
  for (const auto& known : known_codes) {
    if (iequals(known.code, levels)) {
      out.anomaly(known.notice, offset, code.size());
      return known.kind;
    }
  }
  // A known top level with an unknown sub-level (e.g. SYS/OTHER) is still unknown as a whole.
  out.anomaly(Anomaly::RESPONSE_CODE_UNKNOWN, offset, code.size());
  return ResponseCode::other;
}

ParsedStatus parse_status(std::string_view line, uint64_t offset, EventBuilder& out,
                          int32_t* response_item) {
  ParsedStatus result;
  const int32_t response = out.add(Field::RESPONSE, -1, 0, offset, line.size(), line);
  if (response_item) *response_item = response;

  size_t word_end = 0;
  while (word_end < line.size() && line[word_end] != ' ') ++word_end;
  std::string_view word = line.substr(0, word_end);
  // The indicator proper is the first 3 or 4 characters; "+OKAY" counts as "+OK" plus junk.
  std::string_view indicator;
  if (word.size() >= 3 && iequals(word.substr(0, 3), "+OK")) {
    indicator = word.substr(0, 3);
    result.ok = true;
  } else if (word.size() >= 4 && iequals(word.substr(0, 4), "-ERR")) {
    indicator = word.substr(0, 4);
  } else if (word.size() >= 4 && iequals(word.substr(0, 4), "+ERR")) {
    indicator = word.substr(0, 4);
    result.nonstandard = true;
  } else if (word.size() >= 3 && iequals(word.substr(0, 3), "-OK")) {
    indicator = word.substr(0, 3);
    result.nonstandard = true;
  }
  if (indicator.empty()) {
    out.anomaly(Anomaly::STATUS_INVALID, offset, line.size());
    return result;
  }
  result.valid = true;
  result.indicator = indicator;
  if (indicator != "+OK" && indicator != "-ERR") result.nonstandard = true;
  if (word.size() != indicator.size()) result.nonstandard = true;
  out.add(Field::RESPONSE_INDICATOR, response, 0, offset, indicator.size(), indicator,
          result.ok ? POP3D_INDICATOR_OK : POP3D_INDICATOR_ERR);
  if (result.nonstandard) out.anomaly(Anomaly::STATUS_NONSTANDARD, offset, word.size());

  size_t pos = indicator.size();
  while (pos < line.size() && line[pos] == ' ') ++pos;
  if (pos < line.size() && line[pos] == '[') {
    size_t close = line.find(']', pos + 1);
    if (close == std::string_view::npos) {
      result.response_code = ResponseCode::other;
      out.anomaly(Anomaly::RESPONSE_CODE_MALFORMED, offset + pos, line.size() - pos);
    } else {
      result.code = line.substr(pos + 1, close - pos - 1);
      int32_t code_item = out.add(Field::RESPONSE_CODE, response, 0, offset + pos + 1,
                                  result.code.size(), result.code);
      result.response_code = parse_response_code(result.code, offset + pos + 1, out, code_item);
      pos = close + 1;
      while (pos < line.size() && line[pos] == ' ') ++pos;
    }
  }
  result.description = line.substr(pos);
  result.description_offset = offset + pos;
  if (!result.description.empty())
    out.add(Field::RESPONSE_DESCRIPTION, response, 0, offset + pos, result.description.size(),
            result.description);
  return result;
}

GreetingTimestamp find_greeting_timestamp(std::string_view line, uint64_t offset) noexcept {
  GreetingTimestamp result;
  size_t search = 0;
  while (true) {
    size_t open = line.find('<', search);
    if (open == std::string_view::npos) return result;
    size_t close = line.find('>', open + 1);
    if (close == std::string_view::npos) {
      result.malformed = true;
      return result;
    }
    std::string_view candidate = line.substr(open, close - open + 1);
    size_t at = candidate.find('@');
    bool inner_ok = at != std::string_view::npos && at > 1 && at + 2 < candidate.size() &&
                    candidate.find('<', 1) == std::string_view::npos;
    if (inner_ok) {
      result.text = candidate;
      result.offset = offset + open;
      result.found = true;
      result.malformed = false;
      return result;
    }
    result.malformed = true;  // an angle-bracketed text that is not a msg-id
    search = close + 1;
  }
}

namespace {

// "a b" where a is a message number and b is the rest of the text (one word).
struct Pair {
  Word first, second;
  bool ok = false;
  bool extra = false;
};
Pair split_pair(std::string_view text) noexcept {
  Pair pair;
  Words words(text, 0);
  auto a = words.next();
  auto b = words.next();
  if (!a || !b) return pair;
  pair.first = *a;
  pair.second = *b;
  pair.ok = true;
  // Anything after the second word is allowed by RFC 1939 for scan listings ("additional
  // information"), not for unique-id listings; the caller decides.
  pair.extra = words.next().has_value();
  return pair;
}

// The usual shape of listings and STAT answers, "<1-19 digits> <rest>" with a single space and
// a rest that does not start with one: the number and its digit count. Where it holds, it
// finds what split_pair() and parse_decimal() find for the first word, in one pass.
struct LeadingNumber {
  uint64_t value = 0;
  size_t digits = 0;
  bool ok = false;
};
LeadingNumber leading_number(std::string_view text) noexcept {
  LeadingNumber n;
  size_t i = 0;
  for (; i < text.size() && i < 20; ++i) {
    const unsigned digit = static_cast<unsigned char>(text[i]) - unsigned('0');
    if (digit > 9) break;
    n.value = n.value * 10 + digit;
  }
  n.digits = i;
  n.ok = i >= 1 && i <= 19 && i + 1 < text.size() && text[i] == ' ' && text[i + 1] != ' ';
  return n;
}

}  // namespace

bool parse_stat(std::string_view description, uint64_t offset, EventBuilder& out, int32_t parent) {
  // Fast path: "<count> <size>" exactly; anything else goes the general way below.
  if (const LeadingNumber count = leading_number(description); count.ok) {
    const std::string_view rest = description.substr(count.digits + 1);
    if (const auto size = parse_decimal(rest)) {
      out.add_number(Field::STAT_MESSAGES, parent, 0, offset, count.digits, count.value);
      out.add_number(Field::STAT_OCTETS, parent, 0, offset + count.digits + 1, rest.size(), *size);
      return true;
    }
  }
  Pair pair = split_pair(description);
  auto count = pair.ok ? parse_decimal(pair.first.text) : std::nullopt;
  auto size = pair.ok ? parse_decimal(pair.second.text) : std::nullopt;
  if (!count || !size) {
    out.anomaly(Anomaly::STAT_MALFORMED, offset, description.size());
    return false;
  }
  out.add_number(Field::STAT_MESSAGES, parent, 0, offset + pair.first.position,
                 pair.first.text.size(), *count);
  out.add_number(Field::STAT_OCTETS, parent, 0, offset + pair.second.position,
                 pair.second.text.size(), *size);
  return true;
}

bool parse_scan_listing(std::string_view text, uint64_t offset, EventBuilder& out, int32_t parent) {
  // Fast path: "<number> <size>" exactly, number not 0.
  if (const LeadingNumber number = leading_number(text); number.ok && number.value != 0) {
    const std::string_view rest = text.substr(number.digits + 1);
    if (const auto size = parse_decimal(rest)) {
      const int32_t msg = out.add(Field::MSG, parent, 0, offset, text.size());
      out.add_number(Field::MSG_NUMBER, msg, 0, offset, number.digits, number.value);
      out.add_number(Field::MSG_SIZE, msg, 0, offset + number.digits + 1, rest.size(), *size);
      return true;
    }
  }
  Pair pair = split_pair(text);
  auto number = pair.ok ? parse_decimal(pair.first.text) : std::nullopt;
  auto size = pair.ok ? parse_decimal(pair.second.text) : std::nullopt;
  if (!number || !size || *number == 0) {
    out.anomaly(Anomaly::LISTING_MALFORMED, offset, text.size());
    return false;
  }
  int32_t msg = out.add(Field::MSG, parent, 0, offset, text.size());
  out.add_number(Field::MSG_NUMBER, msg, 0, offset + pair.first.position, pair.first.text.size(),
                 *number);
  out.add_number(Field::MSG_SIZE, msg, 0, offset + pair.second.position, pair.second.text.size(),
                 *size);
  return true;
}

bool parse_uidl_listing(std::string_view text, uint64_t offset, EventBuilder& out, int32_t parent) {
  // Fast path: "<number> <uid>" with number not 0 and a valid uid (so one word: no spaces).
  if (const LeadingNumber number = leading_number(text); number.ok && number.value != 0) {
    const std::string_view uid = text.substr(number.digits + 1);
    if (uid.size() <= 70 && scan::all_visible(uid)) {
      const int32_t msg = out.add(Field::MSG, parent, 0, offset, text.size());
      out.add_number(Field::MSG_NUMBER, msg, 0, offset, number.digits, number.value);
      out.add(Field::MSG_UID, msg, 0, offset + number.digits + 1, uid.size(), uid);
      return true;
    }
  }
  Pair pair = split_pair(text);
  auto number = pair.ok ? parse_decimal(pair.first.text) : std::nullopt;
  if (!number || *number == 0) {
    out.anomaly(Anomaly::LISTING_MALFORMED, offset, text.size());
    return false;
  }
  int32_t msg = out.add(Field::MSG, parent, 0, offset, text.size());
  out.add_number(Field::MSG_NUMBER, msg, 0, offset + pair.first.position, pair.first.text.size(),
                 *number);
  // RFC 1939 section 7: 1 to 70 characters in the range 0x21 to 0x7E.
  const Word& uid = pair.second;
  out.add(Field::MSG_UID, msg, 0, offset + uid.position, uid.text.size(), uid.text);
  const bool valid = uid.text.size() <= 70 && scan::all_visible(uid.text);
  if (!valid) out.anomaly(Anomaly::UID_INVALID, offset + uid.position, uid.text.size());
  if (pair.extra) out.anomaly(Anomaly::LISTING_MALFORMED, offset, text.size());
  return true;
}

std::optional<uint64_t> parse_octets(std::string_view description) noexcept {
  Words words(description, 0);
  auto number = words.next();
  auto unit = words.next();
  if (!number || !unit || !iequals(unit->text, "octets")) return std::nullopt;
  return parse_decimal(number->text);
}

namespace {

enum class CapaKind : uint8_t {
  flag,            // no arguments
  sasl,            // mechanism list
  login_delay,     // seconds [USER]
  expire,          // days|NEVER [USER]
  implementation,  // free text
  utf8,            // [USER]: RFC 6856 section 2, UTF-8 accepted in USER and PASS
};

struct CapaSpec {
  std::string_view name;
  CapaKind kind;
};

// RFC 2449 section 6, RFC 2595 (STLS), RFC 3206 (AUTH-RESP-CODE), RFC 6856 (UTF8, LANG):
// the IANA POP3 extension registry.
constexpr std::array<CapaSpec, 14> capa_specs{{
    {"TOP", CapaKind::flag},
    {"USER", CapaKind::flag},
    {"SASL", CapaKind::sasl},
    {"RESP-CODES", CapaKind::flag},
    {"LOGIN-DELAY", CapaKind::login_delay},
    {"PIPELINING", CapaKind::flag},
    {"EXPIRE", CapaKind::expire},
    {"UIDL", CapaKind::flag},
    {"IMPLEMENTATION", CapaKind::implementation},
    {"STLS", CapaKind::flag},
    {"AUTH-RESP-CODE", CapaKind::flag},
    {"UTF8", CapaKind::utf8},
    {"LANG", CapaKind::flag},
    // Not registered, but servers (Dovecot) list the CAPA command in its own answer.
    {"CAPA", CapaKind::flag},
}};

}  // namespace

ParsedCapability parse_capability(std::string_view line, uint64_t offset, EventBuilder& out) {
  ParsedCapability result;
  const int32_t capa = out.add(Field::CAPA, -1, 0, offset, line.size(), line);
  Words words(line, 0);
  auto name = words.next();
  if (!name) {
    out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
    return result;
  }
  result.name = name->text;
  out.add(Field::CAPA_NAME, capa, 0, offset + name->position, name->text.size(), name->text);

  // Every argument as a plain value, for filters like pop3.capa.value == "PLAIN".
  std::array<Word, 4> args{};
  size_t count = 0;
  {
    Words arg_words = words;
    while (auto w = arg_words.next()) {
      if (count < args.size()) args[count] = *w;
      ++count;
      out.add(Field::CAPA_VALUE, capa, 0, offset + w->position, w->text.size(), w->text);
    }
  }
  auto at = [&](const Word& w) { return offset + w.position; };

  const CapaSpec* spec = nullptr;
  for (const auto& s : capa_specs)
    if (iequals(s.name, name->text)) spec = &s;

  if (!spec) {
    if (name->text.size() > 2 && iequals(name->text.substr(0, 2), "X-")) {
      out.anomaly(Anomaly::CAPA_EXPERIMENTAL, at(*name), name->text.size());
      return result;
    }
    // A known name run together with its argument ("EXPIRENEVER", "LOGIN-DELAY900").
    for (const auto& s : capa_specs) {
      if (name->text.size() > s.name.size() &&
          iequals(name->text.substr(0, s.name.size()), s.name) && s.kind != CapaKind::flag) {
        out.anomaly(Anomaly::CAPA_MALFORMED, at(*name), name->text.size());
        return result;
      }
    }
    out.anomaly(Anomaly::CAPA_UNKNOWN, at(*name), name->text.size());
    return result;
  }
  result.known = true;

  auto user_qualifier = [&](size_t index) {
    if (count <= index) return;
    if (iequals(args[index].text, "USER") && count == index + 1) {
      out.add_number(Field::CAPA_PER_USER, capa, 0, at(args[index]), args[index].text.size(), 1);
    } else {
      out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
    }
  };

  switch (spec->kind) {
    case CapaKind::flag:
      if (count != 0) out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
      break;
    case CapaKind::sasl: {
      Words mechs = words;
      while (auto w = mechs.next())
        out.add(Field::CAPA_SASL_MECHANISM, capa, 0, at(*w), w->text.size(), w->text);
      if (count == 0) out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
      break;
    }
    case CapaKind::login_delay: {
      auto seconds = count >= 1 ? parse_decimal(args[0].text) : std::nullopt;
      if (!seconds) {
        out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
        break;
      }
      out.add_number(Field::CAPA_LOGIN_DELAY, capa, 0, at(args[0]), args[0].text.size(), *seconds);
      user_qualifier(1);
      break;
    }
    case CapaKind::expire: {
      if (count == 0) {
        out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
        break;
      }
      if (iequals(args[0].text, "NEVER")) {
        out.add_number(Field::CAPA_EXPIRE_NEVER, capa, 0, at(args[0]), args[0].text.size(), 1);
      } else if (auto days = parse_decimal(args[0].text)) {
        out.add_number(Field::CAPA_EXPIRE, capa, 0, at(args[0]), args[0].text.size(), *days);
      } else {
        out.anomaly(Anomaly::CAPA_MALFORMED, at(args[0]), args[0].text.size());
        break;
      }
      user_qualifier(1);
      break;
    }
    case CapaKind::implementation: {
      Word text = words.rest();
      if (text.text.empty()) {
        out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
        break;
      }
      out.add(Field::CAPA_IMPLEMENTATION, capa, 0, at(text), text.text.size(), text.text);
      break;
    }
    case CapaKind::utf8:
      if (count == 0) break;
      if (count == 1 && iequals(args[0].text, "USER")) {
        out.add_number(Field::CAPA_UTF8_USER, capa, 0, at(args[0]), args[0].text.size(), 1);
      } else {
        out.anomaly(Anomaly::CAPA_MALFORMED, offset, line.size());
      }
      break;
  }
  return result;
}

}  // namespace pop3decode
