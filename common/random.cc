#include "common/random.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/encoding.h"

namespace mdmgw {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fputs("fatal: RAND_bytes failed\n", stderr);
    std::abort();
  }
  return out;
}

double RandomUnit() {
  uint32_t r = 0;
  std::string bytes = RandomBytes(sizeof r);
  std::memcpy(&r, bytes.data(), sizeof r);
  return static_cast<double>(r) / 4294967295.0;
}

std::string RandomToken(size_t n) { return Base64UrlEncode(RandomBytes(n)); }

}  // namespace mdmgw
