// Internal (not installed): the per-mechanism decoders of one SASL exchange, as the session
// drives them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pop3decode/event_builder.hpp"
#include "pop3decode/sasl.hpp"

namespace pop3decode::sasl {

// Where the decoded payload of one step lives, for items and anomalies.
struct Step {
  EventBuilder& out;
  uint32_t source;         // buffer id of the decoded payload in `out` (items use it)
  int32_t parent;          // the step's subtree item; mechanism fields go under it
  uint64_t origin_offset;  // stream range of the base64 text (anomalies point here)
  uint64_t origin_length;
};

// What an exchange revealed about who logged in and with what.
struct Credentials {
  std::string authzid;
  std::string username;
  std::string password;  // only when the mechanism carries it in clear (PLAIN, LOGIN)
  std::string secret;    // digest, proof or token as text (hex for binary values)
};

// One AUTH exchange. The session decodes base64 and calls the steps in wire order; the
// exchange decodes each payload for its mechanism, adds the mechanism's items under
// step.parent (and AUTH_USERNAME / AUTH_PASSWORD items, the password flagged item_secret,
// wherever a user name or password appears), and reports SASL_MALFORMED,
// SASL_PLAIN_NUL_COUNT and SASL_STEP_COUNT anomalies.
class POP3D_EXPORT Exchange {
 public:
  explicit Exchange(std::string_view mechanism_name);
  ~Exchange();
  Exchange(const Exchange&);
  Exchange& operator=(const Exchange&);
  Exchange(Exchange&&) noexcept;
  Exchange& operator=(Exchange&&) noexcept;

  Mechanism mechanism() const noexcept;
  void client_step(std::string_view payload, const Step& step);
  void server_step(std::string_view payload, const Step& step);
  const Credentials& credentials() const noexcept;
  uint32_t client_steps() const noexcept;
  uint32_t server_steps() const noexcept;

  // With the user's password: true if the exchange's digest/proof matches, false if not,
  // nullopt when this mechanism or this exchange cannot be checked (missing messages).
  std::optional<bool> verify(std::string_view password) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pop3decode::sasl
