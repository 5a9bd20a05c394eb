// Enrollment profiles over the admin API on the assembled gateway: the method table, CRUD with
// the table's refusals (changing nothing), the signed .mobileconfig export (verified by openssl)
// and the Apple Configurator usb-sa export.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/crypto/digest.h"
#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "store/store.h"
#include "tests/support/child_process.h"
#include "tests/support/machine_info.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2Request;
constexpr char kTopic[] = "com.apple.mgmt.External.11111111-2222-3333-4444-555555555555";

class EnrollmentProfileAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
    config_.enrollment.machineinfo_ca_file = device_ca_.ca_file();  // the lab's device CA
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    key_ = app_->api_keys().Create("admin")->key.Expose();
  }
  mdmgw::testing::H2TestClient::Stream Call(const std::string& method, const std::string& path,
                                            const std::string& body = "") {
    return H2Request(app_->port(), method, path, {{"authorization", "Bearer " + key_}}, body);
  }
  static std::string Code(const mdmgw::testing::H2TestClient::Stream& s) {
    auto doc = nlohmann::json::parse(s.body, nullptr, false);
    return doc.is_object() && doc.contains("error") ? doc["error"]["code"].get<std::string>() : "";
  }
  void UploadPushCert() {
    auto cert = ca_.IssuePushCert("push", kTopic);
    auto put = Call("PUT", "/api/v1/apns/certificate", cert.cert_pem + cert.key_pem);
    ASSERT_EQ(put.status, 200) << put.body;
  }
  std::string Create(const nlohmann::json& body) {
    auto r = Call("POST", "/api/v1/enrollment-profiles", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = nlohmann::json::parse(r.body, nullptr, false);
    return doc.is_object() ? doc.value("id", "") : "";
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  std::string devices_dir_ = [this] {
    std::string d = dir_.File("devices");
    ::mkdir(d.c_str(), 0700);
    return d;
  }();
  mdmgw::testing::TestCa device_ca_{devices_dir_, "lab device CA"};
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
};

const nlohmann::json kScep = {
    {"mode", "scep"}, {"url", "https://scep.example.com/scep"}, {"challenge", "hunter2"}};

TEST_F(EnrollmentProfileAdminTest, MethodTableAndCrudWithRefusals) {
  auto methods = Call("GET", "/api/v1/enrollment-methods");
  ASSERT_EQ(methods.status, 200);
  EXPECT_EQ(nlohmann::json::parse(methods.body)["methods"].size(), 5u);

  auto refused =
      Call("POST", "/api/v1/enrollment-profiles",
           nlohmann::json{
               {"name", "Direct"}, {"method", "usb-direct"}, {"locked", true}, {"identity", kScep}}
               .dump());
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Code(refused), "method_rule");
  EXPECT_NE(refused.body.find("usb-direct profiles cannot be locked"), std::string::npos);
  EXPECT_EQ(Code(Call("POST", "/api/v1/enrollment-profiles", "[]")), "bad_request");
  EXPECT_EQ(
      nlohmann::json::parse(Call("GET", "/api/v1/enrollment-profiles").body)["profiles"].size(), 0u)
      << "nothing stored";

  std::string id = Create({{"name", "Corp iPads"},
                           {"method", "dep"},
                           {"locked", true},
                           {"organization", "Example Org"},
                           {"identity", kScep}});
  ASSERT_EQ(id.rfind("ep_", 0), 0u);
  auto dup =
      Call("POST", "/api/v1/enrollment-profiles",
           nlohmann::json{{"name", "Corp iPads"}, {"method", "ota"}, {"identity", kScep}}.dump());
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Code(dup), "name_taken");

  auto got = Call("GET", "/api/v1/enrollment-profiles/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body.find("hunter2"), std::string::npos) << "the challenge is never returned";
  EXPECT_EQ(nlohmann::json::parse(got.body)["identity"]["challenge_set"], true);
  EXPECT_EQ(Call("GET", "/api/v1/enrollment-profiles/Corp%20iPads").status, 200) << "by name";

  auto bad_update =
      Call("PUT", "/api/v1/enrollment-profiles/" + id, R"({"method":"ota","locked":true})");
  EXPECT_EQ(Code(bad_update), "method_rule");
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/api/v1/enrollment-profiles/" + id).body)["method"],
            "dep")
      << "a refused update changes nothing";
  auto updated = Call("PUT", "/api/v1/enrollment-profiles/" + id, R"({"department":"IT"})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(nlohmann::json::parse(updated.body)["department"], "IT");
  EXPECT_EQ(nlohmann::json::parse(updated.body)["locked"], true);

  EXPECT_EQ(Call("DELETE", "/api/v1/enrollment-profiles/" + id).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/enrollment-profiles/" + id).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/enrollment-profiles/" + id).status, 404);
}

TEST_F(EnrollmentProfileAdminTest, SignedExportsNeedThePushCertificate) {
  std::string direct = Create({{"name", "Direct"}, {"method", "usb-direct"}, {"identity", kScep}});
  std::string sa = Create({{"name", "Prepare"}, {"method", "usb-sa"}, {"identity", kScep}});
  auto early = Call("GET", "/api/v1/enrollment-profiles/" + direct + "/export?format=usb-direct");
  EXPECT_EQ(early.status, 409);
  EXPECT_EQ(Code(early), "no_push_certificate");

  UploadPushCert();
  auto file = Call("GET", "/api/v1/enrollment-profiles/" + direct + "/export?format=usb-direct");
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.headers["content-type"], "application/x-apple-aspen-config");
  EXPECT_NE(file.headers["content-disposition"].find("Direct.mobileconfig"), std::string::npos);
  std::string path = dir_.File("direct.mobileconfig");
  ASSERT_TRUE(WriteFileAtomic(path, file.body, 0600).ok());
  // Signed by the gateway's generated (self-signed) server certificate.
  std::string cmd = "openssl cms -verify -inform DER -in " + path + " -CAfile " +
                    app_->tls_cert_file() + " -purpose any 2>/dev/null";
  auto verified = mdmgw::testing::RunCommand(cmd);
  EXPECT_EQ(verified.exit_status, 0) << "signature verifies";
  const std::string& xml = verified.out;
  EXPECT_NE(xml.find(kTopic), std::string::npos);
  EXPECT_NE(xml.find("<string>hunter2</string>"), std::string::npos) << "the device needs it";
  EXPECT_NE(xml.find("/mdm/checkin</string>"), std::string::npos);
  EXPECT_NE(xml.find("com.apple.security.root"), std::string::npos)
      << "the self-signed server certificate travels as a trust anchor";

  EXPECT_EQ(Code(Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=usb-direct")),
            "wrong_method");
  auto sa_export = Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=usb-sa");
  ASSERT_EQ(sa_export.status, 200) << sa_export.body;
  auto j = nlohmann::json::parse(sa_export.body);
  EXPECT_EQ(j["enrollment_url"],
            "https://localhost:" + std::to_string(app_->port()) + "/enroll/dep/" + sa);
  ASSERT_EQ(j["anchor_certificates"].size(), 1u);
  EXPECT_EQ(
      j["anchor_certificates"][0]["pem"].get<std::string>().rfind("-----BEGIN CERTIFICATE", 0), 0u);
  EXPECT_EQ(Code(Call("GET", "/api/v1/enrollment-profiles/" + direct + "/export?format=usb-sa")),
            "wrong_method");
  EXPECT_EQ(Code(Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=zip")),
            "bad_request");
  auto preview = Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=mobileconfig");
  EXPECT_EQ(preview.status, 200);

  // No identity given: the gateway's enrollment CA issues one per download.
  std::string own = Create({{"name", "Own CA"}, {"method", "usb-direct"}});
  auto a = Call("GET", "/api/v1/enrollment-profiles/" + own + "/export?format=usb-direct");
  auto b = Call("GET", "/api/v1/enrollment-profiles/" + own + "/export?format=usb-direct");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find("com.apple.security.pkcs12"), std::string::npos);
  EXPECT_NE(a.body.find("<key>Password</key>"), std::string::npos);
  EXPECT_NE(a.body, b.body) << "a fresh identity and password each time";
}

TEST_F(EnrollmentProfileAdminTest, SetupAssistantGetsTheSignedProfileForSignedMachineInfo) {
  UploadPushCert();
  std::string dep =
      Create({{"name", "DEP"}, {"method", "dep"}, {"min_os_version", "17.2"}, {"identity", kScep}});
  std::string sa = Create({{"name", "Cart"}, {"method", "usb-sa"}, {"identity", kScep}});
  auto device = device_ca_.IssueClient("ipad", "ipad-1");
  auto post = [&](const std::string& profile, const std::string& body) {
    return H2Request(app_->port(), "POST", "/enroll/dep/" + profile,
                     {{"content-type", "application/pkcs7-signature"}}, body);
  };
  std::string mi = mdmgw::testing::SignMachineInfo(
      device.cert_pem, device.key_pem,
      mdmgw::testing::MachineInfoPlist("UDID-0001", "DMQXK1Y2Z3W4", "17.4"));

  auto served = post(dep, mi);
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.headers["content-type"], "application/x-apple-aspen-config");
  EXPECT_NE(served.body.find(kTopic), std::string::npos) << "a signed profile (content attached)";
  auto events = app_->store().ListEnrollmentEvents(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].event, "profile_served");
  EXPECT_EQ((*events)[0].serial, "DMQXK1Y2Z3W4");
  EXPECT_EQ((*events)[0].udid, "UDID-0001");
  EXPECT_EQ((*events)[0].method, "dep");

  // Refused: unsigned, tampered, or signed by a CA nobody configured — nothing recorded.
  EXPECT_EQ(post(dep, mdmgw::testing::MachineInfoPlist("U", "S")).status, 403);
  std::string tampered = mi;
  tampered[tampered.find("UDID-0001")] = 'X';
  EXPECT_EQ(post(dep, tampered).status, 403);
  auto stranger = ca_.IssueClient("stranger", "stranger");
  auto untrusted =
      post(dep, mdmgw::testing::SignMachineInfo(stranger.cert_pem, stranger.key_pem,
                                                mdmgw::testing::MachineInfoPlist("U2", "S2")));
  EXPECT_EQ(untrusted.status, 403);
  EXPECT_EQ(Code(untrusted), "untrusted_device");
  EXPECT_EQ(app_->store().ListEnrollmentEvents(0, 10)->size(), 1u) << "nothing recorded";
  EXPECT_EQ(post("ep_nope", mi).status, 404);

  // Served, no TokenUpdate yet: on the report (hours=0: anything served up to now).
  auto report = Call("GET", "/api/v1/reports/incomplete-enrollments?hours=0");
  ASSERT_EQ(report.status, 200) << report.body;
  auto stuck = nlohmann::json::parse(report.body)["profile_served_no_token_update"];
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_EQ(stuck[0]["udid"], "UDID-0001");
  EXPECT_EQ(Code(Call("GET", "/api/v1/reports/incomplete-enrollments?hours=-1")), "bad_request");

  // Below the profile's minimum OS, a device that can update is told to.
  auto old = post(dep, mdmgw::testing::SignMachineInfo(
                           device.cert_pem, device.key_pem,
                           mdmgw::testing::MachineInfoPlist("UDID-0002", "OLD1", "17.1")));
  EXPECT_EQ(old.status, 403);
  auto update = nlohmann::json::parse(old.body, nullptr, false);
  EXPECT_EQ(update["code"], "com.apple.softwareupdate.required");
  EXPECT_EQ(update["details"]["OSVersion"], "17.2");

  // usb-sa: only serials on the imported Configurator list.
  auto not_listed = post(sa, mi);
  EXPECT_EQ(not_listed.status, 403);
  EXPECT_EQ(Code(not_listed), "serial_not_imported");
  auto bad_csv = Call("PUT", "/api/v1/enrollment-profiles/" + sa + "/serials",
                      "DMQXK1Y2Z3W4,cart 1\nnot a serial!,x\n");
  EXPECT_EQ(bad_csv.status, 400);
  auto lines = nlohmann::json::parse(bad_csv.body)["lines"];
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["line"], 2);
  EXPECT_EQ(post(sa, mi).status, 403) << "a bad import stores nothing";
  auto good_csv = Call("PUT", "/api/v1/enrollment-profiles/" + sa + "/serials",
                       "DMQXK1Y2Z3W4,cart 1\nC02ABC123456,cart 2\n");
  ASSERT_EQ(good_csv.status, 200) << good_csv.body;
  EXPECT_EQ(nlohmann::json::parse(good_csv.body)["imported"], 2);
  EXPECT_EQ(nlohmann::json::parse(
                Call("GET", "/api/v1/enrollment-profiles/" + sa + "/serials").body)["serials"]
                .size(),
            2u);
  EXPECT_EQ(post(sa, mi).status, 200);
  EXPECT_EQ(Code(Call("PUT", "/api/v1/enrollment-profiles/" + dep + "/serials", "X1,y\n")),
            "wrong_method");

  // The usb-sa export as a zip for the Configurator Mac, read back by Python's zipfile.
  auto zip =
      Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=usb-sa&download=zip");
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(zip.headers["content-type"], "application/zip");
  std::string zip_file = dir_.File("cart.zip");
  ASSERT_TRUE(WriteFileAtomic(zip_file, zip.body, 0600).ok());
  std::string cmd =
      "python3 -c \"import zipfile; z=zipfile.ZipFile('" + zip_file +
      "'); print(sorted(z.namelist())); print(z.read('serials.csv').decode(), end=''); "
      "print(z.read('enrollment-url.txt').decode(), end='')\"";
  auto read_back = mdmgw::testing::RunCommand(cmd);
  EXPECT_EQ(read_back.exit_status, 0);
  const std::string& listing = read_back.out;
  EXPECT_EQ(listing,
            "['README.txt', 'anchor-1.cer', 'enrollment-url.txt', 'serials.csv']\n"
            "C02ABC123456,cart 2\nDMQXK1Y2Z3W4,cart 1\n"
            "https://localhost:" +
                std::to_string(app_->port()) + "/enroll/dep/" + sa + "\n");
}

TEST_F(EnrollmentProfileAdminTest, DirectLinksInvitationsAndEnrollmentManagers) {
  UploadPushCert();
  std::string direct = Create({{"name", "Direct"}, {"method", "usb-direct"}, {"identity", kScep}});
  std::string byod = Create({{"name", "BYOD"}, {"method", "ota"}, {"identity", kScep}});
  std::string lab = Create({{"name", "Lab"}, {"method", "dem"}, {"identity", kScep}});
  auto device_get = [&](const std::string& url) {
    std::string path = url.substr(url.find("/enroll/"));
    return H2Request(app_->port(), "GET", path, {}, "");
  };

  // USB-Direct: a download link, reusable until it expires.
  EXPECT_EQ(Code(Call("POST", "/api/v1/enrollment-profiles/" + byod + "/links", "{}")),
            "wrong_method");
  EXPECT_EQ(
      Code(Call("POST", "/api/v1/enrollment-profiles/" + direct + "/links", R"({"days":365})")),
      "bad_request");
  auto link = Call("POST", "/api/v1/enrollment-profiles/" + direct + "/links", "{}");
  ASSERT_EQ(link.status, 201) << link.body;
  auto link_json = nlohmann::json::parse(link.body);
  std::string url = link_json["url"];
  EXPECT_NE(url.find("/enroll/configurator/" + direct + ".mobileconfig?token="), std::string::npos);
  EXPECT_NEAR(link_json["expires_at"].get<double>(),
              static_cast<double>(std::time(nullptr) + 14 * 86400), 120.0)
      << "14 days by default";
  auto first = device_get(url);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers["content-type"], "application/x-apple-aspen-config");
  EXPECT_EQ(device_get(url).status, 200) << "reusable within its lifetime";
  std::string wrong_profile = url;
  wrong_profile.replace(wrong_profile.find(direct), direct.size(), byod);
  EXPECT_EQ(device_get(wrong_profile).status, 403);
  EXPECT_EQ(device_get(url.substr(0, url.size() - 4) + "AAAA").status, 403) << "a bad token";
  EXPECT_EQ(
      H2Request(app_->port(), "GET", "/enroll/configurator/" + direct + ".mobileconfig", {}, "")
          .status,
      403);

  // OTA: one invitation, one user, one use.
  EXPECT_EQ(Code(Call("POST", "/api/v1/enrollment-profiles/" + byod + "/invitations", "{}")),
            "bad_request");
  auto invite = Call("POST", "/api/v1/enrollment-profiles/" + byod + "/invitations",
                     R"({"user":"alice@example.com"})");
  ASSERT_EQ(invite.status, 201) << invite.body;
  std::string invite_url = nlohmann::json::parse(invite.body)["url"];
  EXPECT_NE(invite_url.find("/enroll/ota/" + byod + "?invite="), std::string::npos);
  EXPECT_EQ(device_get(invite_url).status, 200);
  auto again = device_get(invite_url);
  EXPECT_EQ(again.status, 410);
  EXPECT_EQ(Code(again), "link_used_up");
  auto events = *app_->store().ListEnrollmentEvents(0, 100);
  bool alice = false;
  for (const auto& e : events)
    alice |= e.detail.find("\"user\":\"alice@example.com\"") != std::string::npos;
  EXPECT_TRUE(alice) << "the user is recorded with the enrollment (user affinity)";

  // DEM: a manager's link counts enrollments; the 1,001st is refused.
  EXPECT_EQ(Code(Call("POST", "/api/v1/dem-managers",
                      nlohmann::json{{"name", "lab-mgr"}, {"profile", byod}}.dump())),
            "wrong_method");
  auto manager = Call("POST", "/api/v1/dem-managers",
                      nlohmann::json{{"name", "lab-mgr"}, {"profile", lab}}.dump());
  ASSERT_EQ(manager.status, 201) << manager.body;
  EXPECT_EQ(Call("POST", "/api/v1/dem-managers",
                 nlohmann::json{{"name", "lab-mgr"}, {"profile", lab}}.dump())
                .status,
            409);
  std::string dem_url = nlohmann::json::parse(manager.body)["url"];
  EXPECT_EQ(device_get(dem_url).status, 200);
  std::string token = dem_url.substr(dem_url.find("token=") + 6);
  std::string hash = HexEncode(crypto::Sha256(token));
  for (int i = 1; i < 999; ++i) ASSERT_TRUE(app_->store().UseEnrollmentLink(hash, 1).ok());
  EXPECT_EQ(device_get(dem_url).status, 200) << "the 1,000th";
  auto over = device_get(dem_url);
  EXPECT_EQ(over.status, 403);
  EXPECT_EQ(Code(over), "link_used_up");
  EXPECT_NE(over.body.find("1,000"), std::string::npos);
  auto managers = nlohmann::json::parse(Call("GET", "/api/v1/dem-managers").body)["managers"];
  ASSERT_EQ(managers.size(), 1u);
  EXPECT_EQ(managers[0]["enrollments"], 1000);
  EXPECT_EQ(managers[0]["limit"], 1000);
}

// device-sim (a separate process, the device's side of the wire) fetches profiles each way.
std::pair<int, nlohmann::json> DeviceSim(const std::string& args) {
  auto r =
      mdmgw::testing::RunCommand(std::string(MDMGW_DEVICE_SIM_PATH) + " " + args + " 2>/dev/null");
  return {r.exit_status, nlohmann::json::parse(r.out, nullptr, false)};
}

TEST_F(EnrollmentProfileAdminTest, DeviceSimFetchesProfilesLikeADevice) {
  UploadPushCert();
  std::string dep = Create({{"name", "DEP"}, {"method", "dep"}});
  std::string byod = Create({{"name", "BYOD"}, {"method", "ota"}});
  std::string base = "https://localhost:" + std::to_string(app_->port());
  auto device = device_ca_.IssueClient("ipad-sim", "ipad-sim");
  std::string ca = " --ca " + app_->tls_cert_file();
  auto [rc, dep_json] = DeviceSim("enroll --url " + base + "/enroll/dep/" + dep +
                                  " --identity-cert " + device.cert_file + " --identity-key " +
                                  device.key_file + " --udid SIM-UDID-1 --serial SIMSERIAL01" + ca);
  EXPECT_EQ(rc, 0) << dep_json.dump();
  EXPECT_EQ(dep_json["status"], 200);
  EXPECT_EQ(dep_json["signature_ok"], true);
  EXPECT_EQ(dep_json["topic"], kTopic);
  EXPECT_EQ(dep_json["server_url"], base + "/mdm/connect");
  EXPECT_EQ(dep_json["identity"], "pkcs12");
  EXPECT_EQ(dep_json["payloads"].back(), "com.apple.mdm");

  auto stranger = ca_.IssueClient("stranger-sim", "stranger");
  auto [bad_rc, bad_json] = DeviceSim(
      "enroll --url " + base + "/enroll/dep/" + dep + " --identity-cert " + stranger.cert_file +
      " --identity-key " + stranger.key_file + " --udid X --serial Y" + ca);
  EXPECT_EQ(bad_rc, 1);
  EXPECT_EQ(bad_json["status"], 403);

  auto invite = Call("POST", "/api/v1/enrollment-profiles/" + byod + "/invitations",
                     R"({"user":"carol@example.com"})");
  std::string url = nlohmann::json::parse(invite.body)["url"];
  auto [ota_rc, ota_json] = DeviceSim("fetch --url '" + url + "'" + ca);
  EXPECT_EQ(ota_rc, 0) << ota_json.dump();
  EXPECT_EQ(ota_json["identity"], "pkcs12");
  auto [again_rc, again_json] = DeviceSim("fetch --url '" + url + "'" + ca);
  EXPECT_EQ(again_rc, 1);
  EXPECT_EQ(again_json["status"], 410) << "an invitation works once";
}

}  // namespace
}  // namespace mdmgw::gateway
