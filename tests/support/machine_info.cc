#include "tests/support/machine_info.h"

#include <openssl/cms.h>
#include <openssl/pem.h>

namespace mdmgw::testing {

std::string MachineInfoPlist(const std::string& udid, const std::string& serial,
                             const std::string& os_version, bool can_update) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
         "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
         "<plist version=\"1.0\"><dict>"
         "<key>LANGUAGE</key><string>en-US</string>"
         "<key>MDM_CAN_REQUEST_SOFTWARE_UPDATE</key><" +
         std::string(can_update ? "true" : "false") +
         "/>"
         "<key>OS_VERSION</key><string>" +
         os_version +
         "</string>"
         "<key>PRODUCT</key><string>iPad13,1</string>"
         "<key>SERIAL</key><string>" +
         serial +
         "</string>"
         "<key>UDID</key><string>" +
         udid +
         "</string>"
         "<key>VERSION</key><string>21E219</string>"
         "</dict></plist>\n";
}

std::string SignMachineInfo(const std::string& cert_pem, const std::string& key_pem,
                            const std::string& content) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO* in = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
  CMS_ContentInfo* cms = CMS_sign(cert, key, nullptr, in, CMS_BINARY);
  std::string out;
  if (cms != nullptr) {
    unsigned char* der = nullptr;
    int len = i2d_CMS_ContentInfo(cms, &der);
    if (len > 0) out.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    CMS_ContentInfo_free(cms);
  }
  BIO_free(in);
  EVP_PKEY_free(key);
  BIO_free(kb);
  X509_free(cert);
  BIO_free(cb);
  return out;
}

}  // namespace mdmgw::testing
