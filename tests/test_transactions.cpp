// Transactions (a command and its complete answer), the order of events, and the
// wanted-events mask.
#include <algorithm>
#include <filesystem>
#include <sstream>

#include "catch_compat.hpp"
#include "pop3decode/session.hpp"
#include "vector_runner.hpp"

using namespace pop3decode;

namespace {

// Keeps every event's kind, and a copy of each transaction's numbers and texts.
struct Collected {
  std::vector<EventKind> kinds;
  std::vector<Event> events;  // pointers inside are dead after the call: only the scalars
  struct Tx {
    Transaction t;
    std::string argument, code, description, mechanism, authcid, authzid;
  };
  std::vector<Tx> transactions;
};

class Collector final : public EventHandler {
 public:
  explicit Collector(Collected& out) : out_(out) {}
  void on_event(const Event& e) override {
    out_.kinds.push_back(e.kind);
    Event copy = e;
    copy.items = {};
    copy.buffers = {};
    copy.anomalies = {};
    copy.line = {};
    copy.data = {};
    copy.transaction = nullptr;
    out_.events.push_back(copy);
    if (e.kind == EventKind::transaction) {
      REQUIRE(e.transaction != nullptr);
      Collected::Tx tx{*e.transaction,
                       std::string(e.transaction->argument),
                       std::string(e.transaction->code),
                       std::string(e.transaction->description),
                       std::string(e.transaction->mechanism),
                       std::string(e.transaction->authcid),
                       std::string(e.transaction->authzid)};
      out_.transactions.push_back(std::move(tx));
    } else {
      CHECK(e.transaction == nullptr);
    }
  }

 private:
  Collected& out_;
};

Collected run(const std::vector<std::pair<Direction, std::string>>& chunks, Options options = {}) {
  Session session(options);
  Collected out;
  Collector c(out);
  for (const auto& [d, bytes] : chunks) session.feed(d, bytes, c);
  session.finish(c);
  return out;
}

constexpr Direction C = Direction::client_to_server;
constexpr Direction S = Direction::server_to_client;

// Only the dumps of TRANSACTION events (and the event log line before each).
class TransactionDump final : public EventHandler {
 public:
  void on_event(const Event& e) override {
    if (e.kind == EventKind::transaction) pop3test::dump_event(out, e);
  }
  std::ostringstream out;
};

std::string transactions_of(const pop3test::Vector& v, const std::vector<size_t>& cuts,
                            uint32_t wanted) {
  Options options = v.options;
  options.wanted_events = wanted;
  TransactionDump rec;
  pop3test::replay_into(v, options, cuts, rec);
  return rec.out.str();
}

}  // namespace

TEST_CASE("a login's line gives STATUS, AUTH_RESULT, STATE, TRANSACTION in that order",
          "[transaction]") {
  auto out = run({{S, "+OK hi\r\n"}, {C, "USER alice\r\nPASS pw\r\n"}, {S, "+OK\r\n+OK in\r\n"}});
  const std::vector<EventKind> expected{
      EventKind::greeting,    EventKind::command, EventKind::command,     EventKind::status,
      EventKind::transaction, EventKind::status,  EventKind::auth_result, EventKind::state,
      EventKind::transaction, EventKind::end};
  CHECK(out.kinds == expected);
  REQUIRE(out.transactions.size() == 2);
  const auto& login = out.transactions[1];
  CHECK(login.t.command == Command::pass);
  CHECK(login.t.request_id == 2);
  CHECK(login.t.auth_result == AuthResult::success);
  CHECK(login.mechanism == "USER/PASS");
  CHECK(login.authcid == "alice");
  CHECK(login.argument.empty());  // a transaction carries no password
  CHECK(login.description == "in");
}

TEST_CASE("pipelined commands each get their transaction, in order", "[transaction]") {
  auto out = run({{S, "+OK\r\n"},
                  {C, "USER a\r\nPASS b\r\nSTAT\r\nLIST\r\nRETR 2\r\nTOP 1 5\r\nDELE 9\r\n"},
                  {S,
                   "+OK\r\n+OK\r\n+OK 2 320\r\n+OK\r\n1 120\r\n2 200\r\n.\r\n"
                   "+OK 200 octets\r\nHi\r\n..dot\r\n.\r\n+OK\r\nSubject: x\r\n.\r\n"
                   "-ERR no such message\r\n"}});
  REQUIRE(out.transactions.size() == 7);
  for (size_t i = 0; i < out.transactions.size(); ++i)
    CHECK(out.transactions[i].t.request_id == i + 1);
  const auto& stat = out.transactions[2].t;
  CHECK(stat.command == Command::stat);
  CHECK((stat.flags & transaction_octets) != 0);
  CHECK(stat.announced_octets == 320);
  const auto& list = out.transactions[3].t;
  CHECK(list.command == Command::list);
  CHECK((list.flags & transaction_multiline) != 0);
  CHECK(list.data_lines == 2);
  const auto& retr = out.transactions[4].t;
  CHECK(retr.command == Command::retr);
  CHECK(retr.message == 2);
  CHECK(retr.announced_octets == 200);
  CHECK(retr.data_lines == 2);
  CHECK(retr.data_octets == 4 + 6);  // "Hi\r\n" and ".dot\r\n" (unstuffed)
  const auto& top = out.transactions[5].t;
  CHECK(top.command == Command::top);
  CHECK(top.message == 1);
  CHECK(top.lines == 5);
  CHECK((top.flags & transaction_lines) != 0);
  const auto& dele = out.transactions[6];
  CHECK(dele.t.indicator == Indicator::err);
  CHECK(dele.t.response_code == ResponseCode::none);
  CHECK(dele.description == "no such message");
}

TEST_CASE("commands unanswered at finish each get a transaction marked unanswered",
          "[transaction]") {
  auto out = run({{S, "+OK\r\n"}, {C, "USER a\r\nPASS b\r\nNOOP\r\n"}, {S, "+OK\r\n"}});
  REQUIRE(out.transactions.size() == 3);
  CHECK((out.transactions[0].t.flags & transaction_unanswered) == 0);
  CHECK((out.transactions[1].t.flags & transaction_unanswered) != 0);
  CHECK(out.transactions[1].t.auth_result == AuthResult::aborted);
  CHECK((out.transactions[2].t.flags & transaction_unanswered) != 0);
  CHECK(out.transactions[2].t.command == Command::noop);
  CHECK(out.kinds.back() == EventKind::end);
}

TEST_CASE("a gap cutting a RETR names its request, the transaction is marked cut",
          "[transaction]") {
  Session session;
  Collected out;
  Collector c(out);
  session.feed(S, "+OK\r\n", c);
  session.feed(C, "USER a\r\nPASS b\r\nRETR 1\r\n", c);
  session.feed(S, "+OK\r\n+OK\r\n+OK 100 octets\r\nfirst\r\n", c);
  session.gap(S, 50, c);
  session.feed(S, "tail\r\nlast\r\n.\r\n", c);
  session.finish(c);
  auto skipped = std::find_if(out.events.begin(), out.events.end(),
                              [](const Event& e) { return e.kind == EventKind::skipped; });
  REQUIRE(skipped != out.events.end());
  CHECK(skipped->request_id == 3);
  CHECK(skipped->command == Command::retr);
  REQUIRE(out.transactions.size() == 3);
  CHECK((out.transactions[2].t.flags & transaction_cut) != 0);
}

TEST_CASE("data cut by the end of the connection: END names the command", "[transaction]") {
  auto out = run({{S, "+OK\r\n"}, {C, "CAPA\r\n"}, {S, "+OK\r\nUSER\r\n"}});
  REQUIRE(out.transactions.size() == 1);
  CHECK((out.transactions[0].t.flags & transaction_cut) != 0);
  CHECK(out.events.back().kind == EventKind::end);
  CHECK(out.events.back().request_id == 1);
}

TEST_CASE("refused, failed and cancelled logins are told apart", "[transaction][auth]") {
  auto out = run({{S, "+OK\r\n"},
                  {C, "USER a\r\nPASS b\r\nUSER a\r\nPASS c\r\nUSER a\r\nPASS d\r\n"},
                  {S,
                   "+OK\r\n-ERR [LOGIN-DELAY] wait\r\n+OK\r\n-ERR [AUTH] bad\r\n+OK\r\n"
                   "-ERR no\r\n"},
                  {C, "AUTH PLAIN\r\n"},
                  {S, "+ \r\n"},
                  {C, "*\r\n"},
                  {S, "-ERR cancelled\r\n"}});
  std::vector<AuthResult> results;
  for (const auto& tx : out.transactions)
    if (tx.t.auth_result != AuthResult::none) results.push_back(tx.t.auth_result);
  const std::vector<AuthResult> expected{AuthResult::refused, AuthResult::failure,
                                         AuthResult::failure, AuthResult::cancelled};
  CHECK(results == expected);
}

TEST_CASE("known verbs are named in upper case, the line stays as sent", "[transaction]") {
  Session session;
  std::vector<std::string> commands, answered;
  session.feed(S, "+OK\r\n", [](const Event&) {});
  session.feed(C, "user a\r\nstat\r\nxyzzy\r\n", [&](const Event& e) {
    if (const Item* item = e.find(Field::REQUEST_COMMAND)) commands.emplace_back(item->text);
  });
  session.feed(S, "+OK\r\n-ERR\r\n-ERR\r\n", [&](const Event& e) {
    if (const Item* item = e.find(Field::RESPONSE_TO_COMMAND)) answered.emplace_back(item->text);
  });
  CHECK(commands == std::vector<std::string>{"USER", "STAT", "xyzzy"});
  CHECK(answered == std::vector<std::string>{"USER", "STAT", "XYZZY"});
}

TEST_CASE("the session user is the authorization identity of a master-user login",
          "[transaction][auth]") {
  // PLAIN: authzid "alice", authcid "admin", password "pw".
  auto session = Session();
  Collected out;
  Collector c(out);
  session.feed(S, "+OK\r\n", c);
  session.feed(C, "AUTH PLAIN YWxpY2UAYWRtaW4AcHc=\r\n", c);
  session.feed(S, "+OK\r\n", c);
  CHECK(session.user() == "alice");
  REQUIRE(out.transactions.size() == 1);
  CHECK(out.transactions[0].authcid == "admin");
  CHECK(out.transactions[0].authzid == "alice");
}

TEST_CASE("unwanted events are not delivered, transactions are the same at every split",
          "[transaction][vectors]") {
  size_t vectors = 0;
  for (const auto& entry : std::filesystem::directory_iterator(POP3DECODE_VECTORS_DIR)) {
    if (entry.path().extension() != ".vec") continue;
    const pop3test::Vector v = pop3test::load_vector(entry.path().string());
    INFO("vector " << v.name);
    const std::string all = transactions_of(v, {}, all_events);
    const uint32_t only = event_bit(EventKind::transaction);
    CHECK(transactions_of(v, {}, only) == all);
    const size_t total = pop3test::total_bytes(v);
    size_t stride = 1;
#ifdef POP3DECODE_SAMPLED_SPLITS
    stride = std::max<size_t>(1, total / POP3DECODE_SAMPLED_SPLITS);
#endif
    for (size_t cut = 1; cut < total; cut += stride) {
      INFO("split at byte " << cut);
      const std::string split = transactions_of(v, {cut}, only);
      if (split != all) {
        CHECK(split == all);
        break;
      }
    }
    ++vectors;
  }
  CHECK(vectors >= 10);

  // Nothing but transactions reaches the handler.
  Options options;
  options.wanted_events = event_bit(EventKind::transaction);
  auto out = run({{S, "+OK\r\n"},
                  {C, "USER a\r\nPASS b\r\nRETR 1\r\n"},
                  {S, "+OK\r\n+OK\r\n+OK\r\nbody\r\n.\r\n"}},
                 options);
  CHECK(out.kinds == std::vector<EventKind>(3, EventKind::transaction));
}
