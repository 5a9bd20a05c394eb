// OpenSSL RAII: unique_ptr aliases for the OpenSSL objects the gateway owns, and the error queue
// rendered as text.
//
// Thread-safety: OpenSSLErrors() drains the calling thread's error queue.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace mdmgw::crypto {

template <auto Fn>
struct FnDeleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using BioPtr = std::unique_ptr<BIO, FnDeleter<BIO_free_all>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, FnDeleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, FnDeleter<EVP_PKEY_CTX_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, FnDeleter<EVP_CIPHER_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, FnDeleter<EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, FnDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, FnDeleter<X509_NAME_free>>;

// A read-only memory BIO over |data| (which must outlive it).
BioPtr MemBio(std::string_view data);
// Everything written to a memory BIO, as a string.
std::string BioToString(BIO* bio);

// Drains the thread's OpenSSL error queue into "lib:reason; lib:reason" (or "unknown error").
std::string OpenSslErrors();

}  // namespace mdmgw::crypto
