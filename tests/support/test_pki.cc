#include "tests/support/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace mdmgw::testing {
namespace {

std::string ToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string KeyToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error("bad test extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* NewCert(EVP_PKEY* key, const std::string& cn, long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 30);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// Writes <dir>/<basename>.crt and .key and frees both.
IssuedFiles WriteIssued(const std::string& dir, const std::string& basename, X509* cert,
                        EVP_PKEY* key) {
  IssuedFiles out;
  out.cert_pem = ToPem(cert);
  out.key_pem = KeyToPem(key);
  out.cert_file = dir + "/" + basename + ".crt";
  out.key_file = dir + "/" + basename + ".key";
  WriteFile(out.cert_file, out.cert_pem);
  WriteFile(out.key_file, out.key_pem);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mdmgw-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestCa::TestCa(const std::string& dir, const std::string& name) : dir_(dir) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = NewCert(key, name, 1);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  AddExt(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  AddExt(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExt(cert, cert, NID_subject_key_identifier, "hash");
  X509_sign(cert, key, EVP_sha256());
  ca_key_ = key;
  ca_cert_ = cert;
  ca_file_ = dir_ + "/ca.pem";
  WriteFile(ca_file_, ToPem(cert));
}

TestCa::~TestCa() {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
  X509_free(static_cast<X509*>(ca_cert_));
}

IssuedFiles TestCa::IssueServer(const std::string& basename) {
  return Issue(basename, "localhost", true);
}

IssuedFiles TestCa::IssueClient(const std::string& basename, const std::string& common_name) {
  return Issue(basename, common_name, false);
}

IssuedFiles TestCa::Issue(const std::string& basename, const std::string& cn, bool server) {
  static long serial = 100;
  auto* ca_cert = static_cast<X509*>(ca_cert_);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = NewCert(key, cn, ++serial);
  X509_set_issuer_name(cert, X509_get_subject_name(ca_cert));
  AddExt(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  AddExt(cert, ca_cert, NID_key_usage, "critical,digitalSignature");
  AddExt(cert, ca_cert, NID_ext_key_usage, server ? "serverAuth" : "clientAuth");
  if (server) AddExt(cert, ca_cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  X509_sign(cert, static_cast<EVP_PKEY*>(ca_key_), EVP_sha256());
  return WriteIssued(dir_, basename, cert, key);
}

namespace {
X509* NewPushCert(EVP_PKEY* key, const std::string& uid, long not_before_s, long not_after_s,
                  X509* ca_cert, EVP_PKEY* ca_key);
}  // namespace

IssuedFiles TestCa::IssuePushCert(const std::string& basename, const std::string& uid,
                                  long not_before_s, long not_after_s) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = NewPushCert(key, uid, not_before_s, not_after_s, static_cast<X509*>(ca_cert_),
                           static_cast<EVP_PKEY*>(ca_key_));
  return WriteIssued(dir_, basename, cert, key);
}

std::string TestCa::SignPushCsr(const std::string& csr_pem, const std::string& uid) {
  BIO* bio = BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (req == nullptr) throw std::runtime_error("bad CSR");
  X509* cert = NewPushCert(X509_REQ_get0_pubkey(req), uid, -3600, 86400L * 365,
                           static_cast<X509*>(ca_cert_), static_cast<EVP_PKEY*>(ca_key_));
  std::string pem = ToPem(cert);
  X509_free(cert);
  X509_REQ_free(req);
  return pem;
}

namespace {
X509* NewPushCert(EVP_PKEY* key, const std::string& uid, long not_before_s, long not_after_s,
                  X509* ca_cert, EVP_PKEY* ca_key) {
  static long serial = 5000;
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after_s);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  std::string cn = "APSP:" + uid;
  X509_NAME_add_entry_by_txt(name, "UID", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(uid.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("US"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(ca_cert));
  AddExt(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  AddExt(cert, ca_cert, NID_key_usage, "critical,digitalSignature");
  AddExt(cert, ca_cert, NID_ext_key_usage, "clientAuth");
  X509_sign(cert, ca_key, EVP_sha256());
  return cert;
}
}  // namespace

}  // namespace mdmgw::testing
