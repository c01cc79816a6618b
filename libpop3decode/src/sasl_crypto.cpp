// Hashing for credential verification, through OpenSSL 3 libcrypto.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>

#include "sasl_internal.hpp"

namespace pop3decode::sasl::detail {

namespace {

const EVP_MD* evp_md(Hash hash) noexcept {
  switch (hash) {
    case Hash::md5: return EVP_md5();
    case Hash::sha1: return EVP_sha1();
    case Hash::sha224: return EVP_sha224();
    case Hash::sha256: return EVP_sha256();
    case Hash::sha384: return EVP_sha384();
    case Hash::sha512: return EVP_sha512();
  }
  return nullptr;
}

}  // namespace

size_t hash_size(Hash hash) noexcept {
  switch (hash) {
    case Hash::md5: return 16;
    case Hash::sha1: return 20;
    case Hash::sha224: return 28;
    case Hash::sha256: return 32;
    case Hash::sha384: return 48;
    case Hash::sha512: return 64;
  }
  return 0;
}

std::optional<std::string> digest(Hash hash, std::string_view data) {
  const EVP_MD* md = evp_md(hash);
  if (md == nullptr) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_length = 0;
  if (EVP_Digest(data.data(), data.size(), out, &out_length, md, nullptr) != 1) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), out_length);
}

std::optional<std::string> hmac(Hash hash, std::string_view key, std::string_view data) {
  const EVP_MD* md = evp_md(hash);
  if (md == nullptr || key.size() > INT_MAX) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_length = 0;
  // HMAC() wants a non-null key pointer even for an empty key.
  static const unsigned char empty_key[1] = {0};
  const void* key_bytes = key.empty() ? static_cast<const void*>(empty_key) : key.data();
  if (HMAC(md, key_bytes, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &out_length) == nullptr)
    return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), out_length);
}

std::optional<std::string> pbkdf2(Hash hash, std::string_view password, std::string_view salt,
                                  uint32_t iterations) {
  const EVP_MD* md = evp_md(hash);
  if (md == nullptr || iterations == 0 || iterations > INT_MAX || password.size() > INT_MAX ||
      salt.size() > INT_MAX)
    return std::nullopt;
  std::string out(hash_size(hash), '\0');
  static const char empty[1] = {0};
  if (PKCS5_PBKDF2_HMAC(
          password.empty() ? empty : password.data(), static_cast<int>(password.size()),
          reinterpret_cast<const unsigned char*>(salt.empty() ? empty : salt.data()),
          static_cast<int>(salt.size()), static_cast<int>(iterations), md,
          static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data())) != 1)
    return std::nullopt;
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace pop3decode::sasl::detail
