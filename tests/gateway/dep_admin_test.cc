// DEP server administration on the assembled gateway: create, certificate download, .p7m token
// upload (made for that certificate the way ABM makes it), list, and each refusal.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <thread>

#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "tests/support/child_process.h"
#include "tests/support/dep_token.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2Request;

class DepAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tls = ca_.IssueServer("dep");
    sim_ = std::make_unique<mdmgw::testing::DepSimProcess>(tls.cert_file, tls.key_file);
    ASSERT_NE(sim_->port, 0);
    sim_url_ = "https://localhost:" + std::to_string(sim_->port);
    config_.dep.ca_file = ca_.ca_file();
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
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

  // A server pointed at dep-sim.
  void Create(const std::string& name) {
    auto r =
        Call("PUT", "/api/v1/dep/servers/" + name, nlohmann::json{{"base_url", sim_url_}}.dump());
    ASSERT_EQ(r.status, 201) << r.body;
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  std::unique_ptr<mdmgw::testing::DepSimProcess> sim_;
  std::string sim_url_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
};

TEST_F(DepAdminTest, CertificateThenTokenThenList) {
  auto created =
      Call("PUT", "/api/v1/dep/servers/main",
           nlohmann::json{{"base_url", sim_url_}, {"sync_interval_seconds", 900}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Call("PUT", "/api/v1/dep/servers/main", "{}").status, 200) << "update, not create";

  EXPECT_EQ(Code(Call("PUT", "/api/v1/dep/servers/main/token", "x")), "no_certificate");
  auto cert = Call("GET", "/api/v1/dep/servers/main/certificate");
  ASSERT_EQ(cert.status, 200);
  EXPECT_EQ(cert.headers["content-type"], "application/x-pem-file");
  EXPECT_NE(cert.headers["content-disposition"].find("attachment"), std::string::npos);
  EXPECT_EQ(cert.body.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_EQ(Call("GET", "/api/v1/dep/servers/main/certificate").body, cert.body)
      << "generated once, kept";

  std::string p7m =
      mdmgw::testing::MakeDepP7m(cert.body, mdmgw::testing::DepTokenPlaintext("CK_first"), true);
  auto up = Call("PUT", "/api/v1/dep/servers/main/token", p7m);
  ASSERT_EQ(up.status, 200) << up.body;
  auto info = nlohmann::json::parse(up.body);
  EXPECT_EQ(info["token"]["consumer_key"], "CK_first");
  EXPECT_GT(info["token"]["days_left"].get<int>(), 20000);
  EXPECT_EQ(up.body.find("AS_"), std::string::npos) << "secrets never returned";
  EXPECT_EQ(up.body.find("CS_"), std::string::npos);
  EXPECT_EQ(info["account"]["server_name"], "dep-sim") << "confirmed with Apple's /account";

  auto list = nlohmann::json::parse(Call("GET", "/api/v1/dep/servers").body);
  ASSERT_EQ(list["servers"].size(), 1u);
  EXPECT_EQ(list["servers"][0]["base_url"], sim_url_);
  EXPECT_EQ(list["servers"][0]["sync_interval_seconds"], 900);
}

TEST_F(DepAdminTest, TokenIssuedByTheSimulatorForOurCertificateIsAccepted) {
  Create("main");
  std::string cert = Call("GET", "/api/v1/dep/servers/main/certificate").body;
  net::H1ClientOptions http_options;
  http_options.ca_file = ca_.ca_file();
  auto http = net::H1Client::Create(http_options).value();
  net::ClientRequest issue;
  issue.method = "POST";
  issue.url = sim_url_ + "/sim/token";
  issue.body = cert;
  auto p7m = http->SendSync(issue);
  ASSERT_TRUE(p7m.ok());
  ASSERT_EQ(p7m->status, 200) << p7m->body;
  EXPECT_NE(p7m->body.find("smime-type=enveloped-data"), std::string::npos) << p7m->body;
  auto up = Call("PUT", "/api/v1/dep/servers/main/token", p7m->body);
  ASSERT_EQ(up.status, 200) << up.body;
  auto info = nlohmann::json::parse(up.body);
  EXPECT_EQ(info["token"]["consumer_key"].get<std::string>().rfind("CK_", 0), 0u);
  EXPECT_GE(info["token"]["days_left"].get<int>(), 364);
  issue.body = "not a certificate";
  auto bad = http->SendSync(issue);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
}

TEST_F(DepAdminTest, TokenRefusalsChangeNothing) {
  Create("main");
  std::string cert = Call("GET", "/api/v1/dep/servers/main/certificate").body;
  ASSERT_EQ(Call("PUT", "/api/v1/dep/servers/main/token",
                 mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext("CK_first")))
                .status,
            200);

  Create("other");
  std::string foreign = Call("GET", "/api/v1/dep/servers/other/certificate").body;
  auto wrong = Call("PUT", "/api/v1/dep/servers/main/token",
                    mdmgw::testing::MakeDepP7m(foreign, mdmgw::testing::DepTokenPlaintext("CK_x")));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(Code(wrong), "wrong_key");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/dep/servers/main/token", "not a token")), "not_smime");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/dep/servers/main/token",
                      mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext(
                                                           "CK_first", "2001-01-01T00:00:00Z")))),
            "token_expired");
  auto changed =
      Call("PUT", "/api/v1/dep/servers/main/token",
           mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext("CK_new")));
  EXPECT_EQ(changed.status, 409);
  EXPECT_EQ(Code(changed), "consumer_key_changed");
  auto info = nlohmann::json::parse(Call("GET", "/api/v1/dep/servers/main").body);
  EXPECT_EQ(info["token"]["consumer_key"], "CK_first") << "nothing stored was lost";

  auto forced = Call("PUT", "/api/v1/dep/servers/main/token?force=1",
                     mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext("CK_new")));
  ASSERT_EQ(forced.status, 200);
  EXPECT_EQ(nlohmann::json::parse(forced.body)["token"]["consumer_key"], "CK_new");

  // Apple refuses (terms changed in ABM): surfaced, nothing stored.
  net::ClientRequest terms;
  terms.method = "POST";
  terms.url = sim_url_ + "/sim/config";
  terms.body = R"({"terms_not_signed":true})";
  net::H1ClientOptions http_options;
  http_options.ca_file = ca_.ca_file();
  auto http = net::H1Client::Create(http_options).value();
  ASSERT_TRUE(http->SendSync(terms).ok());
  auto refused =
      Call("PUT", "/api/v1/dep/servers/main/token",
           mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext("CK_new")));
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(Code(refused), "terms_not_signed");
  EXPECT_EQ(
      nlohmann::json::parse(Call("GET", "/api/v1/dep/servers/main").body)["token"]["consumer_key"],
      "CK_new");

  EXPECT_EQ(Code(Call("PUT", "/api/v1/dep/servers/bad%20name")), "bad_name");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/dep/servers/x", R"({"sync_interval_seconds":1})")),
            "bad_sync_interval");
  EXPECT_EQ(Call("GET", "/api/v1/dep/servers/ghost/certificate").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/dep/servers/other").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/dep/servers/other").status, 404);
}

TEST_F(DepAdminTest, SyncNowThenListDevices) {
  Create("main");
  EXPECT_EQ(Code(Call("POST", "/api/v1/dep/servers/main/sync?wait=1")), "no_token");
  std::string cert = Call("GET", "/api/v1/dep/servers/main/certificate").body;
  ASSERT_EQ(Call("PUT", "/api/v1/dep/servers/main/token",
                 mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext("CK_a")))
                .status,
            200);
  auto sync = Call("POST", "/api/v1/dep/servers/main/sync?wait=1");
  ASSERT_EQ(sync.status, 200) << sync.body;
  auto result = nlohmann::json::parse(sync.body);
  EXPECT_EQ(result["devices"], 1000) << "dep-sim's default organisation";
  EXPECT_EQ(Call("POST", "/api/v1/dep/servers/main/sync").status, 202);

  std::set<std::string> serials;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = Call("GET", "/api/v1/dep/devices?server=main&limit=400" +
                             (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = nlohmann::json::parse(r.body);
    for (const auto& d : body["devices"]) serials.insert(d["serial_number"].get<std::string>());
    if (!body.contains("next_cursor")) break;
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(serials.size(), 1000u);
  auto server = nlohmann::json::parse(Call("GET", "/api/v1/dep/servers/main").body);
  EXPECT_EQ(server["devices"], 1000);
  EXPECT_TRUE(server["sync"]["last_result"]["ok"].get<bool>());
  EXPECT_EQ(Call("GET", "/api/v1/dep/devices").status, 400);

  auto metrics = H2Request(app_->port(), "GET", "/metrics", {}, "").body;
  EXPECT_NE(metrics.find("mdmgw_dep_devices{server=\"main\"} 1000"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mdmgw_dep_terms_not_signed{server=\"main\"} 0"), std::string::npos);
  EXPECT_NE(metrics.find("mdmgw_dep_syncs_total{server=\"main\",result=\"ok\"}"),
            std::string::npos);
  // The worker's pass over the servers sets the token's expiry (it wakes at least every 5 s).
  bool expiry_seen = false;
  for (int i = 0; i < 80 && !expiry_seen; ++i) {
    metrics = H2Request(app_->port(), "GET", "/metrics", {}, "").body;
    expiry_seen =
        metrics.find("mdmgw_dep_token_expiry_seconds{server=\"main\"}") != std::string::npos;
    if (!expiry_seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(expiry_seen);
}

TEST_F(DepAdminTest, ProfilesDefinedAssignedAndFilteredOverTheApi) {
  Create("main");
  std::string cert = Call("GET", "/api/v1/dep/servers/main/certificate").body;
  ASSERT_EQ(Call("PUT", "/api/v1/dep/servers/main/token",
                 mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext("CK_p")))
                .status,
            200);
  ASSERT_EQ(Call("POST", "/api/v1/dep/servers/main/sync?wait=1").status, 200);

  // Refused before Apple sees it; nothing stored.
  auto bad = Call("PUT", "/api/v1/dep/servers/main/profiles/corp", R"({"is_mdm_removable":false})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Code(bad), "profile_invalid");
  EXPECT_NE(bad.body.find("FLAGS_INVALID"), std::string::npos) << bad.body;
  EXPECT_EQ(Code(Call("PUT", "/api/v1/dep/servers/main/profiles/corp", "[1]")), "bad_request");
  EXPECT_EQ(Call("GET", "/api/v1/dep/servers/main/profiles/corp").status, 404);
  EXPECT_EQ(Call("PUT", "/api/v1/dep/servers/ghost/profiles/corp", "{}").status, 404);

  auto defined = Call("PUT", "/api/v1/dep/servers/main/profiles/corp",
                      R"({"is_supervised":true,"is_mdm_removable":false,
                          "skip_setup_items":["Siri","NotAKey"],"default":true})");
  ASSERT_EQ(defined.status, 201) << defined.body;
  auto profile = nlohmann::json::parse(defined.body);
  std::string uuid = profile["profile_uuid"];
  EXPECT_EQ(uuid.size(), 32u);
  EXPECT_TRUE(profile["default"].get<bool>());
  EXPECT_EQ(profile["profile"]["url"],
            "https://localhost:" + std::to_string(app_->port()) + "/enroll/dep/corp")
      << "the gateway's own DEP enrollment URL";
  ASSERT_EQ(profile["profile"]["anchor_certs"].size(), 1u)
      << "the generated self-signed server certificate is the device's trust anchor";
  EXPECT_EQ(profile["warnings"].size(), 1u);
  auto redefined = Call("PUT", "/api/v1/dep/servers/main/profiles/corp", R"({"default":true})");
  ASSERT_EQ(redefined.status, 200) << "redefinition: " << redefined.body;
  uuid = nlohmann::json::parse(redefined.body)["profile_uuid"];  // Apple made a new one

  auto listed = nlohmann::json::parse(Call("GET", "/api/v1/dep/servers/main/profiles").body);
  ASSERT_EQ(listed["profiles"].size(), 1u);
  auto remote = Call("GET", "/api/v1/dep/servers/main/profiles/corp?remote=1");
  ASSERT_EQ(remote.status, 200) << remote.body;
  EXPECT_EQ(nlohmann::json::parse(remote.body)["apple"]["profile_name"], "corp");

  // The next sync hands the default profile to every device.
  auto sync = nlohmann::json::parse(Call("POST", "/api/v1/dep/servers/main/sync?wait=1").body);
  EXPECT_EQ(sync["auto_assign"]["success"], 1000) << sync.dump();
  auto server = nlohmann::json::parse(Call("GET", "/api/v1/dep/servers/main").body);
  EXPECT_EQ(server["default_profile"], "corp");
  EXPECT_EQ(server["devices_by_assignment"]["assigned"], 1000);
  EXPECT_EQ(server["terms"], "accepted");
  EXPECT_TRUE(server["sync"]["cursor_age_seconds"].is_number());

  auto page = nlohmann::json::parse(
      Call("GET", "/api/v1/dep/devices?server=main&status=assigned&limit=3").body);
  ASSERT_EQ(page["devices"].size(), 3u);
  std::string first = page["devices"][0]["serial_number"];
  EXPECT_EQ(page["devices"][0]["assignment"]["state"], "assigned");
  EXPECT_EQ(Code(Call("GET", "/api/v1/dep/devices?server=main&status=bogus")), "bad_request");

  auto unassigned = Call("POST", "/api/v1/dep/servers/main/unassign",
                         nlohmann::json{{"serials", {first}}}.dump());
  ASSERT_EQ(unassigned.status, 200) << unassigned.body;
  EXPECT_EQ(nlohmann::json::parse(unassigned.body)["devices"][first], "SUCCESS");
  auto none =
      nlohmann::json::parse(Call("GET", "/api/v1/dep/devices?server=main&status=unassigned").body);
  ASSERT_EQ(none["devices"].size(), 1u);
  EXPECT_EQ(none["devices"][0]["serial_number"], first);

  auto assigned = Call("POST", "/api/v1/dep/servers/main/profiles/corp/assign",
                       nlohmann::json{{"serials", {first, "NOSUCHSERIAL"}}}.dump());
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  auto answer = nlohmann::json::parse(assigned.body);
  EXPECT_EQ(answer["devices"][first], "SUCCESS");
  EXPECT_EQ(answer["devices"]["NOSUCHSERIAL"], "NOT_ACCESSIBLE");
  EXPECT_EQ(Code(Call("POST", "/api/v1/dep/servers/main/profiles/corp/assign", "{}")),
            "bad_request");

  auto details = Call("GET", "/api/v1/dep/servers/main/devices/" + first);
  ASSERT_EQ(details.status, 200) << details.body;
  EXPECT_EQ(nlohmann::json::parse(details.body)["profile_uuid"], uuid);
  EXPECT_EQ(Call("GET", "/api/v1/dep/servers/main/devices/NOSUCHSERIAL").status, 404);

  auto unconfirmed =
      Call("POST", "/api/v1/dep/servers/main/disown", nlohmann::json{{"serials", {first}}}.dump());
  EXPECT_EQ(Code(unconfirmed), "confirmation_required");
  auto disowned = Call("POST", "/api/v1/dep/servers/main/disown",
                       nlohmann::json{{"serials", {first}}, {"confirm", "disown"}}.dump());
  ASSERT_EQ(disowned.status, 200) << disowned.body;
  EXPECT_EQ(nlohmann::json::parse(disowned.body)["success"], 1);
}

TEST_F(DepAdminTest, PilotGroupsStageARollOut) {
  Create("main");
  std::string cert = Call("GET", "/api/v1/dep/servers/main/certificate").body;
  ASSERT_EQ(Call("PUT", "/api/v1/dep/servers/main/token",
                 mdmgw::testing::MakeDepP7m(cert, mdmgw::testing::DepTokenPlaintext("CK_pilot")))
                .status,
            200);
  net::H1ClientOptions http_options;
  http_options.ca_file = ca_.ca_file();
  auto http = net::H1Client::Create(http_options).value();
  auto sim = [&](const std::string& path) {
    net::ClientRequest r;
    r.method = "GET";
    r.url = sim_url_ + path;
    auto resp = http->SendSync(std::move(r));
    return resp.ok() ? nlohmann::json::parse(resp->body, nullptr, false) : nlohmann::json();
  };
  nlohmann::json truth = sim("/sim/truth");
  std::vector<std::string> pilot_serials;
  for (size_t k = 0; k < 5; ++k) pilot_serials.push_back(truth["devices"][k * 100]);

  EXPECT_EQ(Code(Call("PUT", "/api/v1/groups/bad%20name", "{}")), "bad_name");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/groups/pilot", R"({"serials":["not a serial"]})")),
            "bad_serial");
  auto group =
      Call("PUT", "/api/v1/groups/pilot",
           nlohmann::json{{"serials", pilot_serials}, {"users", {"alice@example.com"}}}.dump());
  ASSERT_EQ(group.status, 201) << group.body;
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/api/v1/groups/pilot").body)["serials"].size(), 5u);

  auto unknown = Call("POST", "/api/v1/enrollment-profiles",
                      R"({"name":"x","method":"dep","pilot_groups":["nope"]})");
  EXPECT_EQ(Code(unknown), "unknown_group");
  auto ep = Call("POST", "/api/v1/enrollment-profiles",
                 R"({"name":"Pilot iPads","method":"dep","locked":true,"department":"Pilot",
                     "pilot_groups":["pilot"]})");
  ASSERT_EQ(ep.status, 201) << ep.body;
  std::string ep_id = nlohmann::json::parse(ep.body)["id"];

  // The DEP profile made from the enrollment profile: its settings and its enrollment URL.
  auto pilot = Call("PUT", "/api/v1/dep/servers/main/profiles/pilot",
                    nlohmann::json{{"enrollment_profile", ep_id}}.dump());
  ASSERT_EQ(pilot.status, 201) << pilot.body;
  auto pilot_json = nlohmann::json::parse(pilot.body);
  EXPECT_EQ(pilot_json["enrollment_profile"], ep_id);
  EXPECT_EQ(pilot_json["profile"]["url"],
            "https://localhost:" + std::to_string(app_->port()) + "/enroll/dep/" + ep_id);
  EXPECT_EQ(pilot_json["profile"]["is_mdm_removable"], false);
  EXPECT_EQ(pilot_json["profile"]["is_supervised"], true);
  EXPECT_EQ(pilot_json["profile"]["department"], "Pilot");
  EXPECT_EQ(pilot_json["profile"]["profile_name"], "Pilot iPads");
  std::string pilot_uuid = pilot_json["profile_uuid"];
  auto corp = Call("PUT", "/api/v1/dep/servers/main/profiles/corp", R"({"default":true})");
  ASSERT_EQ(corp.status, 201) << corp.body;
  std::string corp_uuid = nlohmann::json::parse(corp.body)["profile_uuid"];

  auto sync = nlohmann::json::parse(Call("POST", "/api/v1/dep/servers/main/sync?wait=1").body);
  EXPECT_EQ(sync["auto_assign"]["success"], 1000) << sync.dump();
  nlohmann::json assignments = sim("/sim/truth")["assignments"];
  ASSERT_EQ(assignments.size(), 1000u);
  std::set<std::string> in_pilot(pilot_serials.begin(), pilot_serials.end());
  int pilot_count = 0, corp_count = 0;
  for (const auto& [serial, uuid] : assignments.items()) {
    if (in_pilot.count(serial)) {
      EXPECT_EQ(uuid, pilot_uuid) << serial;
      ++pilot_count;
    } else {
      EXPECT_EQ(uuid, corp_uuid) << serial;
      ++corp_count;
    }
  }
  EXPECT_EQ(pilot_count, 5) << "the pilot group's devices get the pilot profile";
  EXPECT_EQ(corp_count, 995) << "everyone else gets the server's default profile";

  // OTA invitations honour the pilot too.
  auto byod = Call("POST", "/api/v1/enrollment-profiles",
                   R"({"name":"BYOD pilot","method":"ota","pilot_groups":["pilot"]})");
  ASSERT_EQ(byod.status, 201) << byod.body;
  std::string byod_id = nlohmann::json::parse(byod.body)["id"];
  auto bob = Call("POST", "/api/v1/enrollment-profiles/" + byod_id + "/invitations",
                  R"({"user":"bob@example.com"})");
  EXPECT_EQ(Code(bob), "not_in_pilot");
  EXPECT_EQ(Call("POST", "/api/v1/enrollment-profiles/" + byod_id + "/invitations",
                 R"({"user":"alice@example.com"})")
                .status,
            201);
  // Widening: no pilot groups, everyone.
  ASSERT_EQ(Call("PUT", "/api/v1/enrollment-profiles/" + byod_id, R"({"pilot_groups":[]})").status,
            200);
  EXPECT_EQ(Call("POST", "/api/v1/enrollment-profiles/" + byod_id + "/invitations",
                 R"({"user":"bob@example.com"})")
                .status,
            201);
  EXPECT_EQ(Call("DELETE", "/api/v1/groups/pilot").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/groups/pilot").status, 404);
}

}  // namespace
}  // namespace mdmgw::gateway
