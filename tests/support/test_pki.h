// Test PKI: temp dirs and a throwaway CA issuing server and client certificates.
#pragma once

#include <string>

namespace mdmgw::testing {

// A directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct IssuedFiles {
  std::string cert_file;
  std::string key_file;
  std::string cert_pem;
  std::string key_pem;
};

// An RSA-free (P-256) test CA that writes PEM files into |dir|.
class TestCa {
 public:
  explicit TestCa(const std::string& dir, const std::string& name = "mdmgw test CA");
  ~TestCa();
  const std::string& ca_file() const { return ca_file_; }
  // A leaf for "localhost"/127.0.0.1 (server auth) or a client identity (client auth).
  IssuedFiles IssueServer(const std::string& basename);
  IssuedFiles IssueClient(const std::string& basename, const std::string& common_name);
  // An APNs-style MDM push certificate: subject UID=<uid>, CN=APSP:<uid>, C=US, RSA-2048 key,
  // valid from now+|not_before_s| to now+|not_after_s|.
  IssuedFiles IssuePushCert(const std::string& basename, const std::string& uid,
                            long not_before_s = -3600, long not_after_s = 86400L * 365);
  // What Apple's portal does with a vendor-signed CSR: a push certificate (PEM) for the CSR's key.
  std::string SignPushCsr(const std::string& csr_pem, const std::string& uid);

 private:
  IssuedFiles Issue(const std::string& basename, const std::string& cn, bool server);
  std::string dir_;
  std::string ca_file_;
  void* ca_key_;   // EVP_PKEY*
  void* ca_cert_;  // X509*
};

}  // namespace mdmgw::testing
