// Message digests over OpenSSL EVP.
#pragma once

#include <string>
#include <string_view>

namespace mdmgw::crypto {

// Raw 32-byte SHA-256 of |data|.
std::string Sha256(std::string_view data);

// Constant-time equality of two byte strings (length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mdmgw::crypto
