// The master key check and rotation over a real SQLite store: every kind of sealed secret is
// re-sealed, nothing else changes, a failure changes nothing, and a crash between re-sealing and
// replacing the key file is settled at the next start.
#include "gateway/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "apns/push_cert_service.h"
#include "common/encoding.h"
#include "common/random.h"
#include "common/seal_contexts.h"
#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "tests/support/postgres_server.h"

namespace mdmgw::gateway {
namespace {

std::string NewKeyText() { return Base64Encode(RandomBytes(SecretBox::kKeySize)) + "\n"; }

SecretBox BoxOf(const std::string& text) { return SecretBox::FromBase64(text).value(); }

std::string ReadAll(const std::string& path) { return ReadFile(path).value_or(""); }

class MasterKeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = dir_.File("var");
    ASSERT_EQ(::mkdir(data_dir_.c_str(), 0700), 0);
    auto opened = store::Store::Open("sqlite:" + data_dir_ + "/mdm-gateway.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  // One of every kind of sealed secret, sealed with |box| under the contexts the services use.
  void Seed(const SecretBox& box) {
    store::PushCertRecord cert;
    cert.topic = "com.apple.mgmt.External.test";
    cert.cert_pem = "CERT";
    cert.sealed_key = box.Seal("push-key-pem", seal_context::ApnsKey(cert.topic));
    cert.not_after = 2'000'000'000;
    ASSERT_TRUE(store_->PutPushCert(cert).ok());
    ASSERT_TRUE(
        store_->PutPendingCsr({"CSR", box.Seal("csr-key-pem", seal_context::kApnsCsrKey), 5}).ok());
    store::DepServerRecord dep;
    dep.name = "abm";
    dep.base_url = "https://mdmenrollment.apple.com";
    dep.cert_pem = "DEPCERT";
    dep.sealed_key = box.Seal("dep-key-pem", seal_context::DepKey("abm"));
    dep.consumer_key = "CK_1";
    dep.sealed_token = box.Seal(R"({"consumer_secret":"CS_1"})", seal_context::DepToken("abm"));
    ASSERT_TRUE(store_->PutDepServer(dep).ok());
    store::DepServerRecord bare;  // a server still waiting for its token: empty sealed token
    bare.name = "pending";
    bare.base_url = dep.base_url;
    bare.cert_pem = "DEPCERT2";
    bare.sealed_key = box.Seal("dep2-key-pem", seal_context::DepKey("pending"));
    ASSERT_TRUE(store_->PutDepServer(bare).ok());
    ASSERT_TRUE(store_
                    ->PutEnrollmentCaIfAbsent(
                        {"CA", box.Seal("ca-key-pem", seal_context::kEnrollmentCaKey), 1})
                    .ok());
    nlohmann::json settings = {
        {"display_name", "Corp"},
        {"identity",
         {{"kind", "scep"},
          {"url", "https://scep.example/"},
          {"sealed_challenge",
           Base64Encode(box.Seal("challenge-123", seal_context::ScepChallenge("ep_1")))}}}};
    ASSERT_TRUE(
        store_->CreateEnrollmentProfile({"ep_1", "Corp", "ota", settings.dump(), 1, 1}).ok());
    ASSERT_TRUE(store_->CreateEnrollmentProfile({"ep_2", "Plain", "dep", "{}", 1, 1}).ok());
    for (const std::string udid : {"UDID-A", "UDID-B"}) {
      store::EnrollmentRecord e;
      e.id = e.device_id = udid;
      e.type = "Device";
      e.topic = cert.topic;
      e.push_token_hex = "00";
      e.push_magic = "magic";
      if (udid == "UDID-A")
        e.sealed_unlock_token = box.Seal("unlock-A", seal_context::UnlockToken(udid));
      ASSERT_TRUE(store_->RecordTokenUpdate(e).ok());
    }
  }

  // Every seeded secret opens with |box| (and the plain texts are the seeded ones).
  void ExpectAllOpenWith(const SecretBox& box) {
    apns::PushCertService certs(store_->push_certs(), box, Clock::System(), nullptr);
    auto push = certs.LoadActive();
    ASSERT_TRUE(push.ok()) << push.status().ToString();
    EXPECT_EQ(push->key_pem.Expose(), "push-key-pem");
    auto csr = store_->GetPendingCsr();
    ASSERT_TRUE(csr.ok());
    EXPECT_EQ(box.Open(csr->sealed_key, seal_context::kApnsCsrKey)->Expose(), "csr-key-pem");
    auto dep = store_->GetDepServer("abm");
    ASSERT_TRUE(dep.ok());
    EXPECT_EQ(box.Open(dep->sealed_key, seal_context::DepKey("abm"))->Expose(), "dep-key-pem");
    EXPECT_EQ(box.Open(dep->sealed_token, seal_context::DepToken("abm"))->Expose(),
              R"({"consumer_secret":"CS_1"})");
    auto bare = store_->GetDepServer("pending");
    ASSERT_TRUE(bare.ok());
    EXPECT_TRUE(bare->sealed_token.empty()) << "an empty value stays empty";
    EXPECT_TRUE(box.Open(bare->sealed_key, seal_context::DepKey("pending")).ok());
    auto ca = store_->GetEnrollmentCa();
    ASSERT_TRUE(ca.ok());
    EXPECT_EQ(box.Open(ca->sealed_key, seal_context::kEnrollmentCaKey)->Expose(), "ca-key-pem");
    auto profile = store_->GetEnrollmentProfile("ep_1");
    ASSERT_TRUE(profile.ok());
    auto settings = nlohmann::json::parse(profile->settings_json);
    EXPECT_EQ(settings["display_name"], "Corp") << "the rest of the settings is kept";
    EXPECT_EQ(settings["identity"]["url"], "https://scep.example/");
    auto sealed = Base64Decode(settings["identity"]["sealed_challenge"].get<std::string>());
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(box.Open(*sealed, seal_context::ScepChallenge("ep_1"))->Expose(), "challenge-123");
    EXPECT_EQ(store_->GetEnrollmentProfile("ep_2")->settings_json, "{}");
    auto a = store_->GetEnrollment("UDID-A");
    ASSERT_TRUE(a.ok() && a->sealed_unlock_token);
    EXPECT_EQ(box.Open(*a->sealed_unlock_token, seal_context::UnlockToken("UDID-A"))->Expose(),
              "unlock-A");
    EXPECT_FALSE(store_->GetEnrollment("UDID-B")->sealed_unlock_token.has_value());
  }

  bool PushKeyOpensWith(const SecretBox& box) {
    apns::PushCertService certs(store_->push_certs(), box, Clock::System(), nullptr);
    return certs.LoadActive().ok();
  }

  void WriteKeyFile(const std::string& path, const std::string& text, int mode = 0600) {
    ASSERT_TRUE(WriteFileAtomic(path, text, mode).ok());
  }

  testing::TempDir dir_;
  std::string data_dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(MasterKeyRotationTest, ResealAllReSealsEverySecretAndNothingElse) {
  SecretBox old_box = BoxOf(NewKeyText()), new_box = BoxOf(NewKeyText());
  Seed(old_box);
  ExpectAllOpenWith(old_box);
  auto n = ResealAll(store_->database(), old_box, new_box, 100);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 8) << "push key, CSR key, 2 DEP keys, DEP token, CA key, challenge, unlock token";
  ExpectAllOpenWith(new_box);
  EXPECT_FALSE(PushKeyOpensWith(old_box)) << "the old key opens nothing any more";
}

TEST_F(MasterKeyRotationTest, AValueThatDoesNotOpenStopsTheRotationAndChangesNothing) {
  SecretBox old_box = BoxOf(NewKeyText()), new_box = BoxOf(NewKeyText());
  Seed(old_box);
  // A column re-sealed late (unlock tokens) holds a value sealed under another context.
  store::EnrollmentRecord e;
  e.id = e.device_id = "UDID-C";
  e.type = "Device";
  e.sealed_unlock_token = old_box.Seal("x", seal_context::UnlockToken("someone-else"));
  ASSERT_TRUE(store_->RecordTokenUpdate(e).ok());
  auto n = ResealAll(store_->database(), old_box, new_box, 100);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(n.status().message().find("UDID-C"), std::string::npos) << n.status().message();
  ExpectAllOpenWith(old_box);  // rolled back: the push key re-sealed first is the old one again
  EXPECT_FALSE(PushKeyOpensWith(new_box));
}

TEST_F(MasterKeyRotationTest, TheSchemaHasNoSealedColumnTheRotationMisses) {
  auto tables = store_->database().Query("SELECT name FROM sqlite_master WHERE type = 'table'");
  ASSERT_TRUE(tables.ok());
  std::set<std::string> covered;
  for (const auto& c : SealedColumns()) covered.insert(c.substr(0, c.find(':')));
  int sealed_columns = 0;
  for (const auto& t : *tables) {
    std::string table = store::AsText(t[0]);
    auto cols = store_->database().Query("SELECT name FROM pragma_table_info('" + table + "')");
    ASSERT_TRUE(cols.ok());
    for (const auto& c : *cols) {
      std::string column = store::AsText(c[0]);
      if (column.rfind("sealed", 0) != 0) continue;
      ++sealed_columns;
      EXPECT_TRUE(covered.count(table + "." + column))
          << table << "." << column << " holds sealed values the rotation does not re-seal";
    }
  }
  EXPECT_GE(sealed_columns, 7);
}

TEST_F(MasterKeyRotationTest, TheStoreRemembersItsKeyAndRefusesAnother) {
  std::string first = NewKeyText();
  auto opened = OpenMasterKey(*store_, data_dir_, first);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->origin, "environment");
  EXPECT_TRUE(OpenMasterKey(*store_, data_dir_, first).ok());
  auto other = OpenMasterKey(*store_, data_dir_, NewKeyText());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.status().reason(), "wrong_master_key");
  struct stat st {};
  EXPECT_NE(::stat((data_dir_ + "/master.key").c_str(), &st), 0)
      << "with MDMGW_MASTER_KEY nothing is written to the data dir";
}

TEST_F(MasterKeyRotationTest, RotatingTheKeyFileReplacesItAndKeepsEverySecret) {
  auto opened = OpenMasterKey(*store_, data_dir_, "");  // creates master.key
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE(opened->created);
  std::string old_text = ReadAll(data_dir_ + "/master.key");
  Seed(opened->box);
  std::vector<int64_t> progress;
  auto rotated =
      RotateMasterKey(*store_, data_dir_, "", "", [&](int64_t done) { progress.push_back(done); });
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->resealed, 8);
  EXPECT_EQ(rotated->key_origin, data_dir_ + "/master.key");
  std::string new_text = ReadAll(data_dir_ + "/master.key");
  EXPECT_NE(new_text, old_text);
  struct stat st {};
  ASSERT_EQ(::stat((data_dir_ + "/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(::stat((data_dir_ + "/master.key.next").c_str(), &st), 0) << "no leftover";
  ExpectAllOpenWith(BoxOf(new_text));
  auto reopened = OpenMasterKey(*store_, data_dir_, "");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_FALSE(OpenMasterKey(*store_, data_dir_, old_text).ok()) << "the old key is refused";
}

TEST_F(MasterKeyRotationTest, ACrashAfterReSealingFinishesTheRotationAtTheNextStart) {
  auto opened = OpenMasterKey(*store_, data_dir_, "");
  ASSERT_TRUE(opened.ok());
  Seed(opened->box);
  // What the rotation does up to the rename, then "crashes".
  std::string next_text = NewKeyText();
  WriteKeyFile(data_dir_ + "/master.key.next", next_text);
  ASSERT_TRUE(ResealAll(store_->database(), opened->box, BoxOf(next_text), 100).ok());
  auto after = OpenMasterKey(*store_, data_dir_, "");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(ReadAll(data_dir_ + "/master.key"), next_text) << "the new key file took over";
  struct stat st {};
  EXPECT_NE(::stat((data_dir_ + "/master.key.next").c_str(), &st), 0);
  ExpectAllOpenWith(after->box);
}

TEST_F(MasterKeyRotationTest, ACrashBeforeReSealingRollsTheRotationBack) {
  auto opened = OpenMasterKey(*store_, data_dir_, "");
  ASSERT_TRUE(opened.ok());
  std::string old_text = ReadAll(data_dir_ + "/master.key");
  Seed(opened->box);
  WriteKeyFile(data_dir_ + "/master.key.next", NewKeyText());  // then "crashes"
  auto after = OpenMasterKey(*store_, data_dir_, "");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(ReadAll(data_dir_ + "/master.key"), old_text);
  struct stat st {};
  EXPECT_NE(::stat((data_dir_ + "/master.key.next").c_str(), &st), 0) << "the stray key is gone";
  ExpectAllOpenWith(after->box);
}

TEST_F(MasterKeyRotationTest, WithTheKeyInTheEnvironmentTheNewKeyComesFromAFile) {
  std::string env_text = NewKeyText();
  auto opened = OpenMasterKey(*store_, data_dir_, env_text);
  ASSERT_TRUE(opened.ok());
  Seed(opened->box);
  auto no_file = RotateMasterKey(*store_, data_dir_, env_text, "");
  ASSERT_FALSE(no_file.ok());
  EXPECT_EQ(no_file.status().reason(), "new_key_required");
  std::string new_path = dir_.File("new.key");
  std::string new_text = NewKeyText();
  WriteKeyFile(new_path, new_text, 0644);
  auto loose = RotateMasterKey(*store_, data_dir_, env_text, new_path);
  ASSERT_FALSE(loose.ok());
  EXPECT_EQ(loose.status().code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(::chmod(new_path.c_str(), 0600), 0);
  auto same = dir_.File("same.key");
  WriteKeyFile(same, env_text);
  EXPECT_EQ(RotateMasterKey(*store_, data_dir_, env_text, same).status().reason(), "same_key");
  ExpectAllOpenWith(opened->box);  // refusals change nothing
  auto rotated = RotateMasterKey(*store_, data_dir_, env_text, new_path);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->key_origin, new_path);
  ExpectAllOpenWith(BoxOf(new_text));
  EXPECT_TRUE(OpenMasterKey(*store_, data_dir_, new_text).ok());
  EXPECT_FALSE(OpenMasterKey(*store_, data_dir_, env_text).ok());
}

TEST_F(MasterKeyRotationTest, RotationAndTheKeyCheckWorkOnPostgreSQL) {
  auto& pg = testing::SharedPostgres();
  if (!pg.running()) {
    if (std::getenv("MDMGW_REQUIRE_POSTGRES") != nullptr) FAIL() << pg.error();
    GTEST_SKIP() << pg.error();
  }
  auto opened = store::Store::Open(pg.CreateDatabase("rotation_" + std::to_string(::getpid())));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
  std::string old_text = NewKeyText(), new_text = NewKeyText();
  ASSERT_TRUE(OpenMasterKey(*store_, data_dir_, old_text).ok());
  Seed(BoxOf(old_text));
  std::string new_path = dir_.File("new.key");
  WriteKeyFile(new_path, new_text);
  auto rotated = RotateMasterKey(*store_, data_dir_, old_text, new_path);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->resealed, 8);
  ExpectAllOpenWith(BoxOf(new_text));
  EXPECT_TRUE(OpenMasterKey(*store_, data_dir_, new_text).ok());
  EXPECT_EQ(OpenMasterKey(*store_, data_dir_, old_text).status().reason(), "wrong_master_key");
}

TEST(GatewayMasterKeyTest, AGatewayWithTheWrongMasterKeyRefusesToStart) {
  testing::TempDir dir;
  GatewayConfig config;
  config.data_dir = dir.File("var");
  config.server.listen = "127.0.0.1:0";
  std::string first = NewKeyText(), second = NewKeyText();
  auto env = [](const std::string* key) {
    return [key](const char* name) -> const char* {
      return std::string(name) == "MDMGW_MASTER_KEY" ? key->c_str() : nullptr;
    };
  };
  { ASSERT_TRUE(GatewayApp::Create(config, env(&first)).ok()); }
  auto wrong = GatewayApp::Create(config, env(&second));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("not the key this store"), std::string::npos)
      << wrong.status().ToString();
  EXPECT_TRUE(GatewayApp::Create(config, env(&first)).ok());
}

}  // namespace
}  // namespace mdmgw::gateway
