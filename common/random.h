// Cryptographically secure random bytes (OpenSSL RAND_bytes), for keys, nonces and API keys.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstddef>
#include <string>

namespace mdmgw {

// |n| random bytes. Aborts if the system CSPRNG fails (nothing safe can continue without it).
std::string RandomBytes(size_t n);

// A uniform value in [0, 1] from the CSPRNG (backoff jitter).
double RandomUnit();

// |n| random bytes, URL-safe base64 without padding.
std::string RandomToken(size_t n);

}  // namespace mdmgw
