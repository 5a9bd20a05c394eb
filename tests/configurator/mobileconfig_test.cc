// The .mobileconfig against Apple's own schemas (apple/device-management YAML: every required key
// present, every key of the right type), fresh UUIDs per render, and the CMS signature checked by
// the openssl command and the content parsed by Python's plistlib — parsers that are not ours.
#include "configurator/mobileconfig.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <plist/plist.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "common/encoding.h"
#include "common/random.h"
#include "configurator/enrollment_ca.h"
#include "configurator/profile_signer.h"
#include "fixtures/pki/test_pki.h"
#include "store/store.h"
#include "tests/support/child_process.h"

namespace mdmgw::configurator {
namespace {

// One key of a payload schema: its type ("<string>", "<dictionary>", ...) and presence.
struct SchemaKey {
  std::string type;
  bool required = false;
};

// The payload's keys from an Apple schema YAML, by dotted path ("PayloadContent.URL"). A small
// indentation reader: the schemas list keys as "- key:" lines with "type:"/"presence:" under them.
std::map<std::string, SchemaKey> ReadSchema(const std::string& file) {
  std::ifstream in(std::string(MDMGW_FIXTURES_DIR) + "/apple-device-management/mdm/profiles/" +
                   file);
  EXPECT_TRUE(in.good()) << file;
  std::map<std::string, SchemaKey> keys;
  std::vector<std::pair<size_t, std::string>> stack;  // (indent, key)
  bool in_keys = false;
  std::string line;
  std::string current;
  while (std::getline(in, line)) {
    if (line.rfind("payloadkeys:", 0) == 0) {
      in_keys = true;
      continue;
    }
    if (!in_keys) continue;
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    if (indent == 0 && line.rfind("- key:", 0) != 0) break;  // the next top-level section
    std::string rest = line.substr(indent);
    if (rest.rfind("- key: ", 0) == 0) {
      while (!stack.empty() && stack.back().first >= indent) stack.pop_back();
      std::string key = rest.substr(7);
      stack.emplace_back(indent, key);
      current.clear();
      for (const auto& [i, k] : stack) current += (current.empty() ? "" : ".") + k;
      keys[current];
    } else if (!current.empty() && rest.rfind("type: ", 0) == 0 &&
               indent == stack.back().first + 2) {
      keys[current].type = rest.substr(6);
    } else if (!current.empty() && rest.rfind("presence: ", 0) == 0 &&
               indent == stack.back().first + 2) {
      keys[current].required = rest.substr(10) == "required";
    }
  }
  return keys;
}

std::string TypeOf(plist_t node) {
  switch (plist_get_node_type(node)) {
    case PLIST_BOOLEAN:
      return "<boolean>";
    case PLIST_UINT:
      return "<integer>";
    case PLIST_STRING:
      return "<string>";
    case PLIST_DATA:
      return "<data>";
    case PLIST_ARRAY:
      return "<array>";
    case PLIST_DICT:
      return "<dictionary>";
    default:
      return "<other>";
  }
}

// Checks |dict| against |schema| (keys under |prefix|): required keys there, known keys typed.
void CheckAgainstSchema(plist_t dict, const std::map<std::string, SchemaKey>& schema,
                        const std::string& prefix, const std::string& what) {
  std::set<std::string> present;
  plist_dict_iter it = nullptr;
  plist_dict_new_iter(dict, &it);
  while (true) {
    char* key = nullptr;
    plist_t value = nullptr;
    plist_dict_next_item(dict, it, &key, &value);
    if (key == nullptr) break;
    std::string path = prefix.empty() ? key : prefix + "." + key;
    present.insert(path);
    auto s = schema.find(path);
    if (s != schema.end() && !s->second.type.empty() && s->second.type != "<any>") {
      EXPECT_EQ(TypeOf(value), s->second.type) << what << ": " << path;
    }
    if (s != schema.end() && plist_get_node_type(value) == PLIST_DICT) {
      CheckAgainstSchema(value, schema, path, what);
    }
    free(key);
  }
  free(it);
  for (const auto& [path, k] : schema) {
    bool direct_child = path.rfind(prefix.empty() ? "" : prefix + ".", 0) == 0 &&
                        path.find('.', prefix.empty() ? 0 : prefix.size() + 1) == std::string::npos;
    if (k.required && direct_child && path.find("Item") == std::string::npos &&
        path.find("ANY") == std::string::npos) {
      EXPECT_TRUE(present.count(path)) << what << " lacks the required " << path;
    }
  }
}

std::string Str(plist_t dict, const char* key) {
  plist_t v = plist_dict_get_item(dict, key);
  if (v == nullptr || plist_get_node_type(v) != PLIST_STRING) return "";
  char* s = nullptr;
  plist_get_string_val(v, &s);
  std::string out = s ? s : "";
  free(s);
  return out;
}

EnrollmentProfile ScepProfile() {
  EnrollmentProfile p;
  p.id = "ep_test";
  p.name = "Corp iPads";
  p.method = EnrollmentMethod::kDep;
  p.flags = {true, true, false};
  p.organization = "Example Org";
  p.identity.mode = "scep";
  p.identity.url = "https://scep.example.com/scep";
  p.identity.key_size = 2048;
  return p;
}

MobileconfigContext Context() {
  MobileconfigContext c;
  c.topic = "com.apple.mgmt.External.0f5e7a62-8c0b-4b8d-9b0c-2a5e3f1d6c7a";
  c.server_url = "https://mdm.example.com/mdm/connect";
  c.checkin_url = "https://mdm.example.com/mdm/checkin";
  c.anchor_certs_der = {std::string("\x30\x03\x02\x01\x01", 5)};
  c.scep_challenge = "s3cret-challenge";
  return c;
}

struct Parsed {
  plist_t root = nullptr;
  ~Parsed() { plist_free(root); }
  plist_t Payload(const std::string& type) const {
    plist_t content = plist_dict_get_item(root, "PayloadContent");
    for (uint32_t i = 0; i < plist_array_get_size(content); ++i) {
      plist_t p = plist_array_get_item(content, i);
      if (Str(p, "PayloadType") == type) return p;
    }
    return nullptr;
  }
};

TEST(MobileconfigTest, PayloadsFollowApplesSchemas) {
  auto t = MobileconfigTemplate::Build(ScepProfile(), Context());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string xml = t->Render();
  Parsed doc;
  plist_from_xml(xml.data(), static_cast<uint32_t>(xml.size()), &doc.root);
  ASSERT_NE(doc.root, nullptr) << xml;

  // The schema reader itself: what Apple's YAML says about keys this test relies on.
  auto mdm_schema = ReadSchema("com.apple.mdm.yaml");
  ASSERT_TRUE(mdm_schema.count("ServerURL"));
  EXPECT_TRUE(mdm_schema["ServerURL"].required);
  EXPECT_EQ(mdm_schema["AccessRights"].type, "<integer>");
  EXPECT_FALSE(mdm_schema["CheckInURL"].required);
  auto scep_schema = ReadSchema("com.apple.security.scep.yaml");
  ASSERT_TRUE(scep_schema.count("PayloadContent.URL"));
  EXPECT_TRUE(scep_schema["PayloadContent.URL"].required);
  EXPECT_EQ(scep_schema["PayloadContent.Keysize"].type, "<integer>");

  CheckAgainstSchema(doc.root, ReadSchema("TopLevel.yaml"), "", "top level");
  EXPECT_EQ(Str(doc.root, "PayloadType"), "Configuration");
  EXPECT_EQ(Str(doc.root, "PayloadIdentifier"), "com.mdm-gateway.enrollment.ep_test");
  uint8_t locked = 0;
  plist_get_bool_val(plist_dict_get_item(doc.root, "PayloadRemovalDisallowed"), &locked);
  EXPECT_EQ(locked, 1) << "locked profile";

  plist_t mdm = doc.Payload("com.apple.mdm");
  ASSERT_NE(mdm, nullptr);
  CheckAgainstSchema(mdm, ReadSchema("com.apple.mdm.yaml"), "", "com.apple.mdm");
  EXPECT_EQ(Str(mdm, "Topic"), Context().topic);
  EXPECT_EQ(Str(mdm, "ServerURL"), "https://mdm.example.com/mdm/connect");
  EXPECT_EQ(Str(mdm, "CheckInURL"), "https://mdm.example.com/mdm/checkin");
  uint64_t rights = 0;
  plist_get_uint_val(plist_dict_get_item(mdm, "AccessRights"), &rights);
  EXPECT_EQ(rights, 8191u);

  plist_t scep = doc.Payload("com.apple.security.scep");
  ASSERT_NE(scep, nullptr);
  CheckAgainstSchema(scep, ReadSchema("com.apple.security.scep.yaml"), "", "scep");
  EXPECT_EQ(Str(mdm, "IdentityCertificateUUID"), Str(scep, "PayloadUUID"))
      << "the MDM payload names the identity payload";
  plist_t scep_content = plist_dict_get_item(scep, "PayloadContent");
  EXPECT_EQ(Str(scep_content, "Challenge"), "s3cret-challenge");
  EXPECT_EQ(Str(scep_content, "URL"), "https://scep.example.com/scep");

  plist_t anchor = doc.Payload("com.apple.security.root");
  ASSERT_NE(anchor, nullptr);
  EXPECT_EQ(plist_get_node_type(plist_dict_get_item(anchor, "PayloadContent")), PLIST_DATA);

  // Every payload carries the common keys; UUIDs are distinct.
  std::set<std::string> uuids = {Str(doc.root, "PayloadUUID")};
  plist_t content = plist_dict_get_item(doc.root, "PayloadContent");
  ASSERT_EQ(plist_array_get_size(content), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    plist_t p = plist_array_get_item(content, i);
    for (const char* k : {"PayloadType", "PayloadIdentifier", "PayloadUUID"})
      EXPECT_FALSE(Str(p, k).empty()) << k;
    uuids.insert(Str(p, "PayloadUUID"));
  }
  EXPECT_EQ(uuids.size(), 4u);
}

TEST(MobileconfigTest, AcmeIdentityAndFreshUuidsPerRender) {
  EnrollmentProfile p = ScepProfile();
  p.flags.locked = false;
  p.identity = {};
  p.identity.mode = "acme";
  p.identity.url = "https://acme.example.com/directory";
  p.identity.client_identifier = "order-123";
  p.identity.key_type = "ECSECPrimeRandom";
  p.identity.key_size = 384;
  auto t = MobileconfigTemplate::Build(p, Context());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string a = t->Render(), b = t->Render();
  EXPECT_NE(a, b) << "new PayloadUUIDs every build";
  Parsed doc;
  plist_from_xml(a.data(), static_cast<uint32_t>(a.size()), &doc.root);
  ASSERT_NE(doc.root, nullptr);
  EXPECT_EQ(plist_dict_get_item(doc.root, "PayloadRemovalDisallowed"), nullptr);
  plist_t acme = doc.Payload("com.apple.security.acme");
  ASSERT_NE(acme, nullptr);
  CheckAgainstSchema(acme, ReadSchema("com.apple.security.acme.yaml"), "", "acme");
  EXPECT_EQ(Str(doc.Payload("com.apple.mdm"), "IdentityCertificateUUID"), Str(acme, "PayloadUUID"));
  Parsed other;
  plist_from_xml(b.data(), static_cast<uint32_t>(b.size()), &other.root);
  EXPECT_EQ(Str(doc.root, "PayloadIdentifier"), Str(other.root, "PayloadIdentifier"))
      << "identifiers stay stable";
  EXPECT_NE(Str(doc.root, "PayloadUUID"), Str(other.root, "PayloadUUID"));
}

TEST(MobileconfigTest, NoPushCertificateNoProfile) {
  MobileconfigContext c = Context();
  c.topic.clear();
  auto t = MobileconfigTemplate::Build(ScepProfile(), c);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().reason(), "no_push_certificate");
}

// The command's stdout when it succeeds, else "exit N: " and its stdout.
std::string Shell(const std::string& cmd) {
  auto r = testing::RunCommand(cmd);
  return r.exit_status == 0 ? r.out : "exit " + std::to_string(r.exit_status) + ": " + r.out;
}

TEST(MobileconfigTest, SignedProfileVerifiesWithOpensslAndParsesWithPlistlib) {
  testing::TempDir dir;
  testing::TestCa ca(dir.path());
  auto signer_files = ca.IssueServer("signer");
  auto signer = ProfileSigner::FromFiles(signer_files.cert_file, signer_files.key_file);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  auto t = MobileconfigTemplate::Build(ScepProfile(), Context());
  ASSERT_TRUE(t.ok());
  std::string xml = t->Render();
  auto der = (*signer)->Sign(xml);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  std::string signed_file = dir.File("profile.mobileconfig");
  ASSERT_TRUE(WriteFileAtomic(signed_file, *der, 0600).ok());

  std::string content = Shell("openssl cms -verify -inform DER -in " + signed_file + " -CAfile " +
                              ca.ca_file() + " -purpose any 2>/dev/null");
  EXPECT_EQ(content, xml) << "attached content, verified against the signer's CA";
  std::string info = Shell("openssl cms -cmsout -print -inform DER -in " + signed_file);
  EXPECT_NE(info.find("sha256"), std::string::npos) << "SHA-256 digest";
  EXPECT_EQ(Shell("openssl cms -verify -inform DER -in " + signed_file + " -CAfile " +
                  signer_files.cert_file + " -partial_chain -purpose any -noout 2>&1 >/dev/null")
                .rfind("exit", 0),
            std::string::npos)
      << "the signer's certificate is in the message";

  std::string py = "python3 -c \"import plistlib,sys; d=plistlib.loads(open('" + dir.File("c.xml") +
                   "','rb').read()); print(d['PayloadType'], len(d['PayloadContent']), "
                   "[p['PayloadType'] for p in d['PayloadContent']][-1])\"";
  ASSERT_TRUE(WriteFileAtomic(dir.File("c.xml"), content, 0600).ok());
  EXPECT_EQ(Shell(py), "Configuration 3 com.apple.mdm\n");

  // Tampering breaks the signature.
  std::string tampered = *der;
  size_t at = tampered.find("Corp iPads");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'X';
  ASSERT_TRUE(WriteFileAtomic(dir.File("bad.mobileconfig"), tampered, 0600).ok());
  EXPECT_EQ(Shell("openssl cms -verify -inform DER -in " + dir.File("bad.mobileconfig") +
                  " -CAfile " + ca.ca_file() + " -purpose any >/dev/null 2>&1")
                .rfind("exit", 0),
            0u);
}

// OpenSSL's own CMS parser and verifier on our DER: content back unchanged, signature good with
// the signer's certificate (taken from the message), for RSA and EC signers.
std::string VerifyWithOpenssl(const std::string& der, const std::string& cert_pem) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size()));
  if (cms == nullptr) return "unparsable";
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert);
  BIO* out = BIO_new(BIO_s_mem());
  int ok = CMS_verify(cms, nullptr, store, nullptr, out, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY);
  std::string content = "verify failed";
  if (ok == 1) {
    char* data = nullptr;
    long len = BIO_get_mem_data(out, &data);
    content.assign(data, static_cast<size_t>(len));
  }
  STACK_OF(X509)* signers = CMS_get0_signers(cms);
  bool signer_found = signers != nullptr && sk_X509_num(signers) == 1 &&
                      X509_cmp(sk_X509_value(signers, 0), cert) == 0;
  sk_X509_free(signers);
  BIO_free(out);
  X509_STORE_free(store);
  X509_free(cert);
  BIO_free(cb);
  CMS_ContentInfo_free(cms);
  return signer_found ? content : "signer not identified: " + content;
}

TEST(MobileconfigTest, SignedDataParsesAndVerifiesInOpensslForRsaAndEc) {
  testing::TempDir dir;
  std::string rsa_key = dir.File("rsa.key"), rsa_pem = dir.File("rsa.pem");
  ASSERT_EQ(Shell("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + rsa_key + " -out " +
                  rsa_pem + " -days 2 -subj /CN=signer 2>/dev/null"),
            "");
  testing::TestCa ca(dir.path());
  auto ec = ca.IssueServer("ec");
  std::string content = "<plist>" + std::string(5000, 'x') + "</plist>";
  for (auto [cert, key] :
       {std::pair{*ReadFile(rsa_pem), *ReadFile(rsa_key)}, std::pair{ec.cert_pem, ec.key_pem}}) {
    auto signer = ProfileSigner::FromPem(cert, key);
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    auto der = (*signer)->SignAt(content, 1800000000);  // 2027-01-15T08:00:00Z
    ASSERT_TRUE(der.ok());
    EXPECT_EQ(VerifyWithOpenssl(*der, cert), content);
    std::string file = dir.File("s.der");
    ASSERT_TRUE(WriteFileAtomic(file, *der, 0600).ok());
    std::string printed = Shell("openssl cms -cmsout -print -inform DER -in " + file);
    EXPECT_NE(printed.find("UTCTIME:Jan 15 08:00:00 2027 GMT"), std::string::npos) << printed;
    EXPECT_NE(printed.find("messageDigest"), std::string::npos);
    std::string tampered = *der;
    tampered[tampered.find("xxxx")] = 'y';
    EXPECT_EQ(VerifyWithOpenssl(tampered, cert), "verify failed");
  }
}

TEST(MobileconfigTest, Pkcs12IdentityFromTheEnrollmentCa) {
  auto db = store::Store::Open("sqlite::memory:");
  ASSERT_TRUE(db.ok());
  store::ProfileStore& store = (*db)->profiles();
  SecretBox box = SecretBox::FromKey(Secret<std::string>(RandomBytes(32))).value();
  auto ca = EnrollmentCa::LoadOrCreate(store, box, 1);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  auto stored = store.GetEnrollmentCa();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->sealed_key.find("PRIVATE KEY"), std::string::npos) << "sealed";
  auto again = EnrollmentCa::LoadOrCreate(store, box, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->cert_pem(), (*ca)->cert_pem()) << "made once, then loaded";

  EnrollmentProfile p = ScepProfile();
  p.identity = {};
  p.identity.mode = "pkcs12";
  auto t = MobileconfigTemplate::Build(p, Context());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t->needs_identity());
  auto identity = (*ca)->Issue("00008101-0001");
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  RenderIdentity r{identity->pkcs12_der, identity->password};
  std::string xml = t->Render(&r);
  Parsed doc;
  plist_from_xml(xml.data(), static_cast<uint32_t>(xml.size()), &doc.root);
  ASSERT_NE(doc.root, nullptr) << xml.substr(0, 2000);
  plist_t payload = doc.Payload("com.apple.security.pkcs12");
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(Str(doc.Payload("com.apple.mdm"), "IdentityCertificateUUID"),
            Str(payload, "PayloadUUID"));
  plist_t data = plist_dict_get_item(payload, "PayloadContent");
  ASSERT_EQ(plist_get_node_type(data), PLIST_DATA);
  char* bytes = nullptr;
  uint64_t len = 0;
  plist_get_data_val(data, &bytes, &len);
  std::string p12(bytes, len);
  free(bytes);
  EXPECT_EQ(p12, identity->pkcs12_der);
  std::string password = Str(payload, "Password");
  EXPECT_EQ(password, identity->password);
  EXPECT_EQ(password.size(), 24u);

  // OpenSSL opens it with that password; the key matches; the certificate chains to the CA.
  const unsigned char* q = reinterpret_cast<const unsigned char*>(p12.data());
  PKCS12* parsed = d2i_PKCS12(nullptr, &q, static_cast<long>(p12.size()));
  ASSERT_NE(parsed, nullptr);
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* extra = nullptr;
  EXPECT_EQ(PKCS12_parse(parsed, "wrong", &key, &cert, &extra), 0);
  ERR_clear_error();
  ASSERT_EQ(PKCS12_parse(parsed, password.c_str(), &key, &cert, &extra), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 2048);
  EXPECT_TRUE(EVP_PKEY_is_a(key, "RSA"));
  X509_STORE* trust = X509_STORE_new();
  BIO* cb = BIO_new_mem_buf((*ca)->cert_pem().data(), static_cast<int>((*ca)->cert_pem().size()));
  X509* ca_cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(trust, ca_cert);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, trust, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  EXPECT_EQ(X509_verify_cert(ctx), 1) << "a TLS client identity from the enrollment CA";
  char* cn = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0);
  EXPECT_NE(std::string(cn).find("00008101-0001"), std::string::npos);
  OPENSSL_free(cn);
  X509_STORE_CTX_free(ctx);
  X509_free(ca_cert);
  BIO_free(cb);
  X509_STORE_free(trust);
  sk_X509_pop_free(extra, X509_free);
  X509_free(cert);
  EVP_PKEY_free(key);
  PKCS12_free(parsed);

  auto second = (*ca)->Issue("other");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->serial_hex, identity->serial_hex) << "a fresh identity each time";
}

TEST(MobileconfigTest, SignerRefusesMismatchedOrMissingKeys) {
  testing::TempDir dir;
  testing::TestCa ca(dir.path());
  auto a = ca.IssueServer("a");
  auto b = ca.IssueServer("b");
  EXPECT_EQ(ProfileSigner::FromPem(a.cert_pem, b.key_pem).status().reason(), "key_mismatch");
  EXPECT_EQ(ProfileSigner::FromPem("nope", a.key_pem).status().reason(), "bad_signing_certificate");
  EXPECT_EQ(ProfileSigner::FromPem(a.cert_pem, "nope").status().reason(), "bad_signing_key");
}

}  // namespace
}  // namespace mdmgw::configurator
