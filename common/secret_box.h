// SecretBox: authenticated encryption (AES-256-GCM) of secrets at rest: push certificate keys, DEP
// OAuth secrets, the token-exchange key, unlock and bootstrap tokens.
//
// Sealed format (version 1): 0x01 | 12-byte random nonce | ciphertext | 16-byte GCM tag.
// |aad| binds a sealed value to its purpose and owner (e.g. "apns.key:<topic>") so a value copied
// into another row fails to open. Any change to the sealed bytes, the key or the aad makes Open
// fail with kDataLoss; nothing partial is returned.
//
// Thread-safety: immutable after construction; Seal/Open are safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"

namespace mdmgw {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;

  // REQUIRES: |key| is exactly 32 bytes; else InvalidArgument.
  static Result<SecretBox> FromKey(Secret<std::string> key);
  // |base64_key| is the base64 text of 32 bytes (the MDMGW_MASTER_KEY format).
  static Result<SecretBox> FromBase64(std::string_view base64_key);

  std::string Seal(std::string_view plaintext, std::string_view aad) const;
  Result<Secret<std::string>> Open(std::string_view sealed, std::string_view aad) const;

 private:
  explicit SecretBox(Secret<std::string> key) : key_(std::move(key)) {}
  Secret<std::string> key_;
};

struct MasterKeySource {
  SecretBox box;
  // "environment" or the key file's path; printed at start so operators know which key is in use.
  std::string origin;
  bool created = false;  // a new key file was written
};

// The key-encryption key: from |env_value| (MDMGW_MASTER_KEY) when non-empty, else from
// <data_dir>/master.key, which is created (32 random bytes, base64, mode 0600) when missing.
// A key file with looser permissions than 0600 is refused.
Result<MasterKeySource> LoadOrCreateMasterKey(const std::string& data_dir,
                                              std::string_view env_value);

}  // namespace mdmgw
