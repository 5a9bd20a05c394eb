// Check-in and command forwarding end to end: the assembled gateway over real TLS (HTTP/2 and
// HTTP/1.1) in front of mdm-core-stub (a real process answering like NanoMDM with -cert-header).
// Real device plists from NanoMDM's captures; identities from a test device CA.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/crypto/digest.h"
#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "net/h1_client.h"
#include "store/store.h"
#include "tests/support/child_process.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2RequestAs;
using Stream = mdmgw::testing::H2TestClient::Stream;
constexpr char kTopic[] = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";
constexpr char kUdid[] = "66ADE930-5FDF-5EC4-8429-15640684C489";
constexpr char kCheckIn[] = "application/x-apple-aspen-mdm-checkin";
constexpr char kMdm[] = "application/x-apple-aspen-mdm";

std::string Fixture(const std::string& name) {
  auto f = ReadFile(std::string(MDMGW_FIXTURES_DIR) + "/nanomdm/mdm/testdata/" + name);
  EXPECT_TRUE(f.ok()) << name;
  return f.ok() ? *f : "";
}

std::string DerOf(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  int len = i2d_X509(c, nullptr);
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(c, &p);
  X509_free(c);
  return der;
}

std::string Sha(const std::string& bytes) { return HexEncode(crypto::Sha256(bytes)); }

std::string Sign(const mdmgw::testing::IssuedFiles& id, const std::string& body) {
  BIO* cb = BIO_new_mem_buf(id.cert_pem.data(), static_cast<int>(id.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO* kb = BIO_new_mem_buf(id.key_pem.data(), static_cast<int>(id.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO* in = BIO_new_mem_buf(body.data(), static_cast<int>(body.size()));
  CMS_ContentInfo* cms = CMS_sign(cert, key, nullptr, in, CMS_BINARY | CMS_DETACHED);
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  CMS_ContentInfo_free(cms);
  BIO_free(in);
  BIO_free(kb);
  BIO_free(cb);
  X509_free(cert);
  EVP_PKEY_free(key);
  return Base64Encode(out);
}

std::string ToBinary(const std::string& xml) {
  plist_t root = nullptr;
  plist_from_xml(xml.data(), static_cast<uint32_t>(xml.size()), &root);
  char* bin = nullptr;
  uint32_t len = 0;
  plist_to_bin(root, &bin, &len);
  std::string out(bin, len);
  plist_to_bin_free(bin);
  plist_free(root);
  return out;
}

std::string Plist(const std::string& dict_body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>" + dict_body +
         "</dict></plist>";
}

std::string Code(const Stream& s) {
  auto doc = nlohmann::json::parse(s.body, nullptr, false);
  return doc.is_object() && doc.contains("error") ? doc["error"].value("code", "") : "";
}

// Talks to a stub's control API over plain HTTP.
class StubControl {
 public:
  explicit StubControl(uint16_t port) : base_("http://127.0.0.1:" + std::to_string(port)) {
    http_ = std::move(net::H1Client::Create({})).value();
  }
  nlohmann::json Requests() {
    auto r = Call("GET", "/stub/requests", "", "");
    return r.ok() ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json::array();
  }
  Result<net::ClientResponse> Call(const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& content_type) {
    net::ClientRequest req;
    req.method = method;
    req.url = base_ + path;
    req.body = body;
    if (!content_type.empty()) req.headers.Add("content-type", content_type);
    return http_->SendSync(std::move(req));
  }
  std::string url() const { return base_ + "/mdm"; }

 private:
  std::string base_;
  std::unique_ptr<net::H1Client> http_;
};

class CheckInForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override { Boot({}); }

  void Boot(const std::vector<std::string>& stub_args, const std::string& header_style = "") {
    ::mkdir(dir_.File("rogue").c_str(), 0700);
    rogue_ = std::make_unique<mdmgw::testing::TestCa>(dir_.File("rogue"), "rogue CA");
    device_ = devices_ca_.IssueClient("device", "device 1");
    device2_ = devices_ca_.IssueClient("device2", "device 1 reinstalled");
    stranger_ = rogue_->IssueClient("stranger", "stranger");
    stub_ = std::make_unique<mdmgw::testing::CoreStubProcess>(stub_args);
    ASSERT_NE(stub_->port, 0);
    control_ = std::make_unique<StubControl>(stub_->port);
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 2;
    config_.devices.ca_file = devices_ca_.ca_file();
    config_.upstream.url = control_->url();
    config_.upstream.timeout_seconds = 2;
    config_.upstream.retry_after_seconds = 17;
    if (!header_style.empty()) config_.upstream.cert_header_style = header_style;
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    key_ = app_->api_keys().Create("admin")->key.Expose();
    auto push = ca_.IssuePushCert("push", kTopic);
    auto put = Admin("PUT", "/api/v1/apns/certificate", push.cert_pem + push.key_pem);
    ASSERT_EQ(put.status, 200) << put.body;
  }

  Stream Device(const std::string& path, const std::string& body,
                const mdmgw::testing::IssuedFiles* identity, const char* content_type = kCheckIn,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("content-type", content_type);
    return H2RequestAs(app_->port(), identity, "PUT", path, headers, body);
  }
  Stream Admin(const std::string& method, const std::string& path, const std::string& body = "") {
    return mdmgw::testing::H2Request(app_->port(), method, path,
                                     {{"authorization", "Bearer " + key_}}, body);
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  std::string devices_dir_ = [this] {
    std::string d = dir_.File("devices");
    ::mkdir(d.c_str(), 0700);
    return d;
  }();
  mdmgw::testing::TestCa devices_ca_{devices_dir_, "devices CA"};
  std::unique_ptr<mdmgw::testing::TestCa> rogue_;
  mdmgw::testing::IssuedFiles device_, device2_, stranger_;
  std::unique_ptr<mdmgw::testing::CoreStubProcess> stub_;
  std::unique_ptr<StubControl> control_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
};

TEST_F(CheckInForwardingTest, EveryMessageTypeReachesTheCoreByteForByte) {
  std::string cert_sha = Sha(DerOf(device_.cert_pem));
  std::vector<std::pair<std::string, std::string>> sent;  // (kind, body)
  auto expect_ok = [&](const std::string& path, const std::string& body, const char* type) {
    auto r = Device(path, body, &device_, type);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    sent.emplace_back(path, body);
    return r;
  };
  expect_ok("/mdm/checkin", Fixture("Authenticate.2.plist"), kCheckIn);
  expect_ok("/mdm/checkin", Fixture("TokenUpdate.2.plist"), kCheckIn);

  // Answers the core gives are passed back unchanged: a bootstrap token plist, DDM JSON.
  std::string bootstrap = Plist("<key>BootstrapToken</key><data>c2VjcmV0</data>");
  ASSERT_TRUE(control_
                  ->Call("POST", "/stub/respond?message_type=GetBootstrapToken", bootstrap,
                         "application/xml")
                  .ok());
  std::string ddm =
      R"({"SyncTokens":{"DeclarationsToken":"abc","Timestamp":"2026-01-01T00:00:00Z"}})";
  ASSERT_TRUE(control_
                  ->Call("POST", "/stub/respond?message_type=DeclarativeManagement", ddm,
                         "application/json")
                  .ok());
  auto udid_keys = std::string("<key>UDID</key><string>") + kUdid + "</string>";
  expect_ok("/mdm/checkin",
            Plist("<key>MessageType</key><string>SetBootstrapToken</string>" + udid_keys +
                  "<key>BootstrapToken</key><data>c2VjcmV0</data>"),
            kCheckIn);
  auto got = expect_ok(
      "/mdm/checkin", Plist("<key>MessageType</key><string>GetBootstrapToken</string>" + udid_keys),
      kCheckIn);
  EXPECT_EQ(got.body, bootstrap);
  EXPECT_EQ(got.headers["content-type"], "application/xml");
  auto dm = expect_ok("/mdm/checkin",
                      Plist("<key>MessageType</key><string>DeclarativeManagement</string>" +
                            udid_keys + "<key>Endpoint</key><string>tokens</string>"),
                      kCheckIn);
  EXPECT_EQ(dm.body, ddm);
  EXPECT_EQ(dm.headers["content-type"], "application/json");
  expect_ok("/mdm/checkin",
            Plist("<key>MessageType</key><string>UserAuthenticate</string>" + udid_keys +
                  "<key>UserID</key><string>U1</string>"),
            kCheckIn);
  expect_ok("/mdm/checkin",
            Plist("<key>MessageType</key><string>GetToken</string>" + udid_keys +
                  "<key>TokenServiceType</key><string>com.apple.maid</string>"),
            kCheckIn);

  // The command channel: a queued command comes back as the core wrote it; the result goes up.
  std::string command = Plist(
      "<key>CommandUUID</key><string>76eda240-5488-4989-8339-f2ae160113c4</string><key>Command"
      "</key><dict><key>RequestType</key><string>DeviceInformation</string></dict>");
  ASSERT_TRUE(control_->Call("POST", "/stub/command", command, "application/xml").ok());
  auto idle =
      expect_ok("/mdm/connect", Plist(udid_keys + "<key>Status</key><string>Idle</string>"), kMdm);
  EXPECT_EQ(idle.body, command);
  auto ack = expect_ok("/mdm/connect", Fixture("DeviceInformation.1.plist"), kMdm);
  EXPECT_TRUE(ack.body.empty()) << "nothing more queued";
  // A binary plist check-in, as some devices send.
  expect_ok("/mdm/checkin", ToBinary(Fixture("TokenUpdate.2.plist")), kCheckIn);
  expect_ok("/mdm/checkin",
            Plist("<key>MessageType</key><string>CheckOut</string>" + udid_keys +
                  "<key>Topic</key><string>" + kTopic + "</string>"),
            kCheckIn);

  auto records = control_->Requests();
  ASSERT_EQ(records.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    const auto& rec = records[i];
    EXPECT_EQ(rec["body_sha256"], Sha(sent[i].second)) << "request " << i << " byte for byte";
    EXPECT_EQ(rec["method"], "PUT");
    EXPECT_EQ(rec["target"], "/mdm");
    EXPECT_EQ(rec.value("cert_sha256", ""), cert_sha) << "RFC 9440 header parsed by the core";
    EXPECT_EQ(rec["headers"]["x-forwarded-for"], "127.0.0.1");
    EXPECT_EQ(rec["headers"]["x-request-id"].get<std::string>().size(), 24u);
    EXPECT_EQ(rec["headers"]["content-type"], sent[i].first == "/mdm/checkin" ? kCheckIn : kMdm);
  }

  // What was recorded: the device, its token and magic, then the CheckOut.
  auto device = app_->store().GetEnrollment(kUdid);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EXPECT_EQ(device->serial, "C02MT66KFLHH");
  EXPECT_EQ(device->push_magic, "888CEB39-BFFA-40F6-89FA-B60752EB63C2");
  EXPECT_EQ(device->push_token_hex,
            HexEncode(*Base64Decode("G6fJAGbFD3domiTzpCXK9oowD3KeiORgqUFgItXWQsw=")));
  EXPECT_EQ(device->status, "checked_out");
  EXPECT_GT(device->last_seen_at, 0);
  auto push = Admin("POST", "/api/v1/push", nlohmann::json{{"enrollment_ids", {kUdid}}}.dump());
  EXPECT_NE(push.body.find("\"checked_out\""), std::string::npos) << push.body;
  auto identity = app_->store().GetDeviceIdentity(kUdid);
  ASSERT_TRUE(identity.ok());
  EXPECT_EQ(identity->cert_sha256, cert_sha);

  auto list = Admin("GET", "/api/v1/devices");
  ASSERT_EQ(list.status, 200);
  auto devices = nlohmann::json::parse(list.body)["devices"];
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0]["serial"], "C02MT66KFLHH");
  EXPECT_EQ(devices[0]["push"]["token_present"], true);
  EXPECT_EQ(list.body.find("888CEB39"), std::string::npos) << "PushMagic is never listed";
}

TEST_F(CheckInForwardingTest, HttpOneClientsAreForwardedToo) {
  auto conn = mdmgw::testing::TlsTestConnection::Open(app_->port(), "http/1.1", &device_);
  ASSERT_TRUE(conn);
  std::string body = Fixture("Authenticate.2.plist");
  auto r = mdmgw::testing::H1RoundTrip(
      *conn,
      "PUT /mdm/checkin HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + std::string(kCheckIn) +
          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(r.status, 200) << r.body;
  auto records = control_->Requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["body_sha256"], Sha(body));
}

TEST_F(CheckInForwardingTest, MdmSignatureAndRefusedIdentities) {
  std::string auth = Fixture("Authenticate.2.plist");
  // Signed, no TLS client certificate.
  std::string signature = Sign(device_, auth);
  auto signed_ok = Device("/mdm/checkin", auth, nullptr, kCheckIn, {{"mdm-signature", signature}});
  EXPECT_EQ(signed_ok.status, 200) << signed_ok.body;
  auto records = control_->Requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["cert_sha256"], Sha(DerOf(device_.cert_pem)));
  EXPECT_EQ(records[0]["headers"]["mdm-signature"], signature) << "passed through";

  // Tampered body, wrong CA, nothing at all: refused, nothing forwarded.
  std::string token_update = Fixture("TokenUpdate.2.plist");
  auto tampered = Device("/mdm/checkin", token_update + " ", nullptr, kCheckIn,
                         {{"mdm-signature", Sign(device_, token_update)}});
  EXPECT_EQ(tampered.status, 401);
  EXPECT_EQ(Code(tampered), "bad_signature");
  auto wrong_ca = Device("/mdm/checkin", token_update, nullptr, kCheckIn,
                         {{"mdm-signature", Sign(stranger_, token_update)}});
  EXPECT_EQ(wrong_ca.status, 401);
  EXPECT_EQ(Code(wrong_ca), "untrusted_certificate");
  auto tls_wrong_ca = Device("/mdm/checkin", token_update, &stranger_);
  EXPECT_EQ(Code(tls_wrong_ca), "untrusted_certificate");
  auto none = Device("/mdm/checkin", token_update, nullptr);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Code(none), "no_identity");
  // A Client-Cert header from outside is not an identity ...
  std::string spoof = ":" + Base64Encode(DerOf(device_.cert_pem)) + ":";
  auto spoofed = Device("/mdm/checkin", token_update, nullptr, kCheckIn, {{"client-cert", spoof}});
  EXPECT_EQ(Code(spoofed), "no_identity");
  EXPECT_EQ(control_->Requests().size(), 1u) << "no refused request reached the core";
  EXPECT_TRUE(app_->store().GetEnrollment(kUdid)->push_token_hex.empty()) << "nothing recorded";
  // ... and beside a real identity it is replaced, never passed on.
  std::string stranger_header = ":" + Base64Encode(DerOf(stranger_.cert_pem)) + ":";
  auto mixed =
      Device("/mdm/checkin", token_update, &device_, kCheckIn, {{"client-cert", stranger_header}});
  EXPECT_EQ(mixed.status, 200) << mixed.body;
  records = control_->Requests();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["cert_sha256"], Sha(DerOf(device_.cert_pem)));
}

// The device CA bundle check with every kind of bad identity, over real TLS (mTLS) and as
// Mdm-Signature: each is refused with 401 untrusted_certificate and a message saying why, and
// nothing reaches the core or the store.
TEST_F(CheckInForwardingTest, ExpiredNotYetValidWrongCaAndWrongPurposeIdentitiesAreRefused) {
  constexpr long kDay = 86400;
  auto expired = devices_ca_.IssueClientWith("expired", "old device", -60 * kDay, -kDay);
  auto future = devices_ca_.IssueClientWith("future", "future device", kDay, 30 * kDay);
  auto signing = devices_ca_.IssueClientWith("signing", "signer", -3600, 30 * kDay, "codeSigning");
  auto server_leaf = devices_ca_.IssueServer("server-leaf");  // serverAuth only
  struct Case {
    const char* name;
    const mdmgw::testing::IssuedFiles* identity;
    const char* why;  // in the error message
  };
  const Case cases[] = {
      {"expired", &expired, "expired"},
      {"not yet valid", &future, "not yet valid"},
      {"wrong CA", &stranger_, "unable to get local issuer"},
      {"codeSigning EKU", &signing, "purpose"},
      {"serverAuth EKU", &server_leaf, "purpose"},
  };
  std::string body = Fixture("Authenticate.2.plist");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto mtls = Device("/mdm/checkin", body, c.identity);
    EXPECT_EQ(mtls.status, 401) << mtls.body;
    EXPECT_EQ(Code(mtls), "untrusted_certificate");
    EXPECT_NE(mtls.body.find(c.why), std::string::npos) << mtls.body;
    auto signed_body = Device("/mdm/checkin", body, nullptr, kCheckIn,
                              {{"mdm-signature", Sign(*c.identity, body)}});
    EXPECT_EQ(signed_body.status, 401) << signed_body.body;
    EXPECT_EQ(Code(signed_body), "untrusted_certificate");
    EXPECT_NE(signed_body.body.find(c.why), std::string::npos) << signed_body.body;
    // Also on the command channel.
    auto connect = Device("/mdm/connect", Fixture("DeviceInformation.1.plist"), c.identity, kMdm);
    EXPECT_EQ(connect.status, 401) << connect.body;
  }
  EXPECT_EQ(control_->Requests().size(), 0u) << "no refused request reached the core";
  EXPECT_TRUE(app_->store().GetEnrollment(kUdid).status().IsNotFound()) << "nothing recorded";
  // The same device with a good identity from the same CA is let through: the refusals above were
  // about the certificates, not the request.
  EXPECT_EQ(Device("/mdm/checkin", body, &device_).status, 200);
  EXPECT_EQ(control_->Requests().size(), 1u);
}

TEST_F(CheckInForwardingTest, BindingTopicAndBodyRefusals) {
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_).status, 200);
  // Another certificate for the same device, before a new Authenticate: 403.
  auto other = Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device2_);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(Code(other), "identity_mismatch");
  // A reinstalled profile re-binds at Authenticate.
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device2_).status, 200);
  EXPECT_EQ(Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device2_).status, 200);
  EXPECT_EQ(Code(Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_)),
            "identity_mismatch");

  std::string foreign = Fixture("TokenUpdate.2.plist");
  foreign.replace(foreign.find(kTopic), std::strlen(kTopic), "com.apple.mgmt.External.other");
  auto topic = Device("/mdm/checkin", foreign, &device2_);
  EXPECT_EQ(topic.status, 403);
  EXPECT_EQ(Code(topic), "topic_mismatch");

  auto unknown = Device("/mdm/checkin",
                        Plist("<key>MessageType</key><string>Reboot</string><key>UDID</key>"
                              "<string>x</string>"),
                        &device2_);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Code(unknown), "unknown_message_type");
  auto garbage = Device("/mdm/checkin", "bplist00 not really", &device2_);
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(Code(garbage), "bad_plist");

  // 10 MB: refused from its Content-Length, never read whole.
  std::string huge(10 << 20, 'a');
  auto big = Device("/mdm/checkin", huge, &device2_);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(control_->Requests().size(), 3u) << "only the three accepted requests were forwarded";
}

TEST_F(CheckInForwardingTest, CoreDownGives503AndKeepsWhatWasRecorded) {
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_).status, 200);
  stub_->process->Stop();
  auto start = std::chrono::steady_clock::now();
  auto down = Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.headers["retry-after"], "17");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  auto device = app_->store().GetEnrollment(kUdid);
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->push_magic, "888CEB39-BFFA-40F6-89FA-B60752EB63C2") << "TokenUpdate kept";
  EXPECT_EQ(device->status, "enrolled");
  // The breaker opens after repeated failures: answers stay 503, now without trying.
  for (int i = 0; i < 6; ++i)
    Device("/mdm/connect",
           Plist(std::string("<key>UDID</key><string>") + kUdid +
                 "</string><key>Status</key>"
                 "<string>Idle</string>"),
           &device_, kMdm);
  auto metrics = mdmgw::testing::H2Request(app_->port(), "GET", "/metrics", {}, "");
  EXPECT_NE(metrics.body.find("mdmgw_upstream_breaker_open{upstream=\"default\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("outcome=\"breaker_open\""), std::string::npos);
}

// A store that cannot be written (read-only here) refuses check-ins with 503 + Retry-After before
// anything is forwarded, so the device retries and nothing it sent is lost.
TEST_F(CheckInForwardingTest, UnwritableStoreGives503BeforeForwardingThenRecovers) {
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_).status, 200);
  ASSERT_TRUE(app_->store().database().Query("PRAGMA query_only = 1").ok());
  auto refused = Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(Code(refused), "store_unavailable");
  EXPECT_FALSE(refused.headers["retry-after"].empty()) << "the device is told when to retry";
  EXPECT_EQ(control_->Requests().size(), 1u) << "the refused TokenUpdate did not reach the core";
  EXPECT_EQ(mdmgw::testing::H2Get(app_->port(), "/readyz").status, 503);

  ASSERT_TRUE(app_->store().database().Query("PRAGMA query_only = 0").ok());
  EXPECT_EQ(mdmgw::testing::H2Get(app_->port(), "/readyz").status, 200);
  auto retried = Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_);
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(control_->Requests().size(), 2u);
  EXPECT_FALSE(app_->store().GetEnrollment(kUdid)->push_token_hex.empty()) << "the retry is stored";
}

TEST_F(CheckInForwardingTest, SlowCoreTimesOutWith503) {
  ASSERT_TRUE(
      control_
          ->Call("POST", "/stub/config", R"({"mode":"slow","delay_ms":8000})", "application/json")
          .ok());
  auto start = std::chrono::steady_clock::now();
  auto slow = Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(slow.status, 503);
  EXPECT_LT(took, std::chrono::milliseconds(6000))
      << "answered at the 2 s upstream timeout, not the core's 8 s";
  ASSERT_TRUE(
      control_->Call("POST", "/stub/config", R"({"mode":"error"})", "application/json").ok());
  auto failing = Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_);
  EXPECT_EQ(failing.status, 503) << "a core 5xx becomes 503 + Retry-After for the device";
  EXPECT_EQ(failing.headers["retry-after"], "17");
}

// A core that resets the connection instead of answering: the device gets 503 + Retry-After at
// once (not after the timeout), what the check-in recorded is kept, and the next check-in after
// the core recovers is forwarded on a fresh connection.
TEST_F(CheckInForwardingTest, CoreResettingConnectionsGives503AndRecovers) {
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_).status, 200);
  ASSERT_TRUE(
      control_->Call("POST", "/stub/config", R"({"mode":"reset"})", "application/json").ok());
  auto start = std::chrono::steady_clock::now();
  auto reset = Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_);
  EXPECT_EQ(reset.status, 503) << reset.body;
  EXPECT_FALSE(reset.headers["retry-after"].empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1900))
      << "a reset is an answer: no waiting for the 2 s timeout";
  EXPECT_FALSE(app_->store().GetEnrollment(kUdid)->push_token_hex.empty())
      << "the TokenUpdate was recorded before forwarding";
  ASSERT_TRUE(control_->Call("POST", "/stub/config", R"({"mode":"ok"})", "application/json").ok());
  auto back = Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_);
  EXPECT_EQ(back.status, 200) << back.body;
}

TEST_F(CheckInForwardingTest, RoutingMovesAGroupToAnotherCore) {
  mdmgw::testing::CoreStubProcess other;
  ASSERT_NE(other.port, 0);
  StubControl other_control(other.port);
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_).status, 200);
  ASSERT_EQ(control_->Requests().size(), 1u);

  auto bad =
      Admin("PUT", "/api/v1/routing",
            nlohmann::json{{"groups", {{{"group", "nope"}, {"upstream", "core-b"}}}}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Admin("PUT", "/api/v1/groups/pilot", R"({"serials":["C02MT66KFLHH"]})").status, 201);
  nlohmann::json routing = {{"upstreams", {{"core-b", {{"url", other_control.url()}}}}},
                            {"groups", {{{"group", "pilot"}, {"upstream", "core-b"}}}}};
  auto put = Admin("PUT", "/api/v1/routing", routing.dump());
  ASSERT_EQ(put.status, 200) << put.body;

  // The next check-in and command report of the pilot device go to core B, no re-enrollment.
  ASSERT_EQ(Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_).status, 200);
  ASSERT_EQ(Device("/mdm/connect", Fixture("DeviceInformation.1.plist"), &device_, kMdm).status,
            200);
  EXPECT_EQ(control_->Requests().size(), 1u);
  EXPECT_EQ(other_control.Requests().size(), 2u);

  // A device override beats the group; the document survives a restart (stored).
  routing["devices"] = {{kUdid, "default"}};
  ASSERT_EQ(Admin("PUT", "/api/v1/routing", routing.dump()).status, 200);
  ASSERT_EQ(Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_).status, 200);
  EXPECT_EQ(control_->Requests().size(), 2u);
  auto stored = app_->store().GetRouting();
  ASSERT_TRUE(stored.ok());
  EXPECT_NE(stored->find("core-b"), std::string::npos);
  auto shown = nlohmann::json::parse(Admin("GET", "/api/v1/routing").body);
  EXPECT_EQ(shown["devices"][kUdid], "default");
}

TEST_F(CheckInForwardingTest, StaleDevicesAreCleanedUp) {
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_).status, 200);
  ASSERT_EQ(Device("/mdm/checkin", Fixture("TokenUpdate.2.plist"), &device_).status, 200);
  // A second device whose identity expired 200 days ago.
  int64_t now = std::time(nullptr);
  store::EnrollmentRecord old;
  old.id = old.device_id = "OLD-DEVICE";
  old.type = "Device";
  old.topic = kTopic;
  old.created_at = old.updated_at = now;
  ASSERT_TRUE(
      app_->store().RecordAuthenticate(old, {"OLD-DEVICE", "ab", now - 200 * 86400, now}).ok());
  auto dry = Admin("POST", "/api/v1/devices/cleanup?dry_run=1");
  ASSERT_EQ(dry.status, 200) << dry.body;
  auto report = nlohmann::json::parse(dry.body);
  EXPECT_EQ(report["count"], 1);
  EXPECT_EQ(report["devices"][0]["device_id"], "OLD-DEVICE");
  EXPECT_TRUE(app_->store().GetEnrollment("OLD-DEVICE").ok()) << "a dry run removes nothing";
  auto run = Admin("POST", "/api/v1/devices/cleanup");
  EXPECT_EQ(nlohmann::json::parse(run.body)["count"], 1);
  EXPECT_TRUE(app_->store().GetEnrollment("OLD-DEVICE").status().IsNotFound());
  EXPECT_TRUE(app_->store().GetEnrollment(kUdid).ok()) << "a current device stays";
}

// device-sim (a separate process) as the device: enrolls over an OTA invitation, takes the
// PKCS#12 identity the gateway's enrollment CA issued from the profile, and checks in with it.
std::vector<nlohmann::json> DeviceSimLines(const std::string& args, int* exit_status) {
  auto r =
      mdmgw::testing::RunCommand(std::string(MDMGW_DEVICE_SIM_PATH) + " " + args + " 2>/dev/null");
  *exit_status = r.exit_status;
  std::vector<nlohmann::json> out;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    auto j = nlohmann::json::parse(r.out.substr(start, end - start), nullptr, false);
    if (!j.is_discarded()) out.push_back(j);
    start = end + 1;
  }
  return out;
}

TEST_F(CheckInForwardingTest, DeviceSimEnrollsAndChecksInWithTheIssuedIdentity) {
  auto profile = Admin("POST", "/api/v1/enrollment-profiles", R"({"name":"BYOD","method":"ota"})");
  ASSERT_EQ(profile.status, 201) << profile.body;
  std::string id = nlohmann::json::parse(profile.body)["id"];
  auto invite = Admin("POST", "/api/v1/enrollment-profiles/" + id + "/invitations",
                      R"({"user":"carol@example.com"})");
  ASSERT_EQ(invite.status, 201) << invite.body;
  std::string url = nlohmann::json::parse(invite.body)["url"];
  std::string ca = " --ca " + app_->tls_cert_file();
  std::string saved = dir_.File("carol.mobileconfig");
  int rc = -1;
  auto fetched = DeviceSimLines("fetch --url '" + url + "' --out " + saved + ca, &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(fetched.size(), 1u);
  EXPECT_EQ(fetched[0]["identity_opened"], true);

  auto lines = DeviceSimLines("checkin --profile " + saved +
                                  " --udid SIM-1 --serial SIMSERIAL1"
                                  " --messages authenticate,tokenupdate,idle" +
                                  ca,
                              &rc);
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) EXPECT_EQ(l["status"], 200) << l.dump();
  auto records = control_->Requests();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(records[0].contains("cert_sha256")) << "the issued identity reached the core";
  auto device = app_->store().GetEnrollment("SIM-1");
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->status, "enrolled");
  EXPECT_TRUE(device->sealed_unlock_token.has_value());

  // The same device signing binary plists instead of mTLS, and a crowd of devices at once.
  auto signed_lines = DeviceSimLines("checkin --profile " + saved +
                                         " --udid SIM-1 --serial SIMSERIAL1 --sign --binary"
                                         " --messages tokenupdate,checkout" +
                                         ca,
                                     &rc);
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(signed_lines.size(), 2u);
  EXPECT_EQ(app_->store().GetEnrollment("SIM-1")->status, "checked_out");
  auto load = DeviceSimLines("load --server https://localhost:" + std::to_string(app_->port()) +
                                 " --identity-cert " + device_.cert_file + " --identity-key " +
                                 device_.key_file + " --topic " + kTopic +
                                 " --devices 40 --concurrency 8" + ca,
                             &rc);
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(load.size(), 1u);
  EXPECT_EQ(load[0]["failed_devices"], 0) << load[0].dump();
  EXPECT_EQ(control_->Requests().size(), 3u + 2u + 120u);
  auto list = nlohmann::json::parse(Admin("GET", "/api/v1/devices?limit=1000").body)["devices"];
  EXPECT_EQ(list.size(), 41u);
}

class EscapedPemForwardingTest : public CheckInForwardingTest {
 protected:
  void SetUp() override { Boot({"--cert-header", "X-Ssl-Client-Cert"}, "escaped-pem"); }
};

TEST_F(EscapedPemForwardingTest, NginxStyleHeaderParsesUpstream) {
  ASSERT_EQ(Device("/mdm/checkin", Fixture("Authenticate.2.plist"), &device_).status, 200);
  auto records = control_->Requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value("cert_sha256", ""), Sha(DerOf(device_.cert_pem))) << records[0].dump();
  std::string header = records[0]["headers"]["x-ssl-client-cert"];
  EXPECT_EQ(header.rfind("-----BEGIN%20CERTIFICATE-----", 0), 0u) << header.substr(0, 40);
  EXPECT_FALSE(records[0]["headers"].contains("client-cert"));
}

}  // namespace
}  // namespace mdmgw::gateway
