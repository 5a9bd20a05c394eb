#include "common/secret_box.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include "common/crypto/openssl_ptr.h"
#include "common/encoding.h"
#include "common/random.h"

namespace mdmgw {
namespace {

constexpr unsigned char kVersion = 0x01;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<SecretBox> SecretBox::FromKey(Secret<std::string> key) {
  if (key.Expose().size() != kKeySize) {
    return Status::InvalidArgument("master key must be 32 bytes, got " +
                                   std::to_string(key.Expose().size()));
  }
  return SecretBox(std::move(key));
}

Result<SecretBox> SecretBox::FromBase64(std::string_view base64_key) {
  auto raw = Base64Decode(base64_key);
  if (!raw.ok()) {
    return Status::InvalidArgument("master key is not valid base64");
  }
  return FromKey(Secret<std::string>(std::move(raw).value()));
}

std::string SecretBox::Seal(std::string_view plaintext, std::string_view aad) const {
  std::string nonce = RandomBytes(kNonceSize);
  std::string out;
  out.resize(1 + kNonceSize + plaintext.size() + kTagSize);
  out[0] = static_cast<char>(kVersion);
  out.replace(1, kNonceSize, nonce);
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + 1 + kNonceSize);

  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key_.Expose()), Bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), ct, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, ct + plaintext.size()) == 1;
  if (!ok) {
    // AES-GCM with a valid key does not fail; a failure here means a broken OpenSSL.
    std::abort();
  }
  return out;
}

Result<Secret<std::string>> SecretBox::Open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < 1 + kNonceSize + kTagSize) {
    return Status::DataLoss("sealed value is too short");
  }
  if (static_cast<unsigned char>(sealed[0]) != kVersion) {
    return Status::DataLoss("sealed value has an unknown version");
  }
  std::string_view nonce = sealed.substr(1, kNonceSize);
  std::string_view ct = sealed.substr(1 + kNonceSize, sealed.size() - 1 - kNonceSize - kTagSize);
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  std::string plain(ct.size(), '\0');

  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key_.Expose()), Bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, Bytes(ct),
                        static_cast<int>(ct.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) ==
          1;
  if (!ok) {
    Secret<std::string> wipe(std::move(plain));
    return Status::DataLoss(
        "sealed value failed authentication (wrong key, wrong context or tampered)");
  }
  return Secret<std::string>(std::move(plain));
}

Result<MasterKeySource> LoadOrCreateMasterKey(const std::string& data_dir,
                                              std::string_view env_value) {
  if (!env_value.empty()) {
    auto box = SecretBox::FromBase64(env_value);
    if (!box.ok()) {
      return box.status().WithContext("MDMGW_MASTER_KEY");
    }
    return MasterKeySource{std::move(box).value(), "environment", false};
  }
  std::string path = data_dir + "/master.key";
  auto text = ReadFile(path);
  if (text.ok()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      return Status::PermissionDenied(path + " is readable by others (mode " +
                                      std::to_string(st.st_mode & 0777) + "); run: chmod 600 " +
                                      path);
    }
    Secret<std::string> secret_text(std::move(text).value());
    auto box = SecretBox::FromBase64(secret_text.Expose());
    if (!box.ok()) {
      return box.status().WithContext(path);
    }
    return MasterKeySource{std::move(box).value(), path, false};
  }
  if (!text.status().IsNotFound()) {
    return text.status();
  }
  Secret<std::string> raw(RandomBytes(SecretBox::kKeySize));
  Secret<std::string> encoded(Base64Encode(raw.Expose()) + "\n");
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(path, encoded.Expose(), 0600));
  auto box = SecretBox::FromKey(std::move(raw));
  if (!box.ok()) {
    return box.status();
  }
  return MasterKeySource{std::move(box).value(), path, true};
}

}  // namespace mdmgw
