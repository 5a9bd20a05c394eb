// One conformance suite for every store backend: SQLite file, SQLite in memory, PostgreSQL (a real
// throwaway server). Each test gets a fresh database.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include "fixtures/pki/test_pki.h"
#include "store/migrations.h"
#include "store/store.h"
#include "tests/support/postgres_server.h"

namespace mdmgw::store {
namespace {

struct Backend {
  std::string name;
  // Returns a fresh store URL, or "" to skip (with the reason in |why|).
  std::function<std::string(std::string* why)> fresh_url;
};

testing::TempDir& SqliteDir() {
  static testing::TempDir* dir = new testing::TempDir();
  return *dir;
}

std::string UniqueName() {
  static std::atomic<int> n{0};
  return "t" + std::to_string(::getpid()) + "_" + std::to_string(n.fetch_add(1));
}

std::vector<Backend> Backends() {
  return {
      {"sqlite_file",
       [](std::string*) { return "sqlite:" + SqliteDir().File(UniqueName() + ".db"); }},
      {"sqlite_memory", [](std::string*) { return std::string("sqlite::memory:"); }},
      {"postgres",
       [](std::string* why) -> std::string {
         auto& pg = testing::SharedPostgres();
         if (!pg.running()) {
           *why = pg.error();
           return "";
         }
         return pg.CreateDatabase(UniqueName());
       }},
  };
}

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string why;
    url_ = GetParam().fresh_url(&why);
    if (url_.empty()) {
      if (std::getenv("MDMGW_REQUIRE_POSTGRES") != nullptr)
        FAIL() << "PostgreSQL required: " << why;
      GTEST_SKIP() << why;
    }
    auto opened = Store::Open(url_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  ApiKeyRecord Key(const std::string& name, const std::string& hash, int64_t created = 100) {
    ApiKeyRecord r;
    r.id = "k_" + name;
    r.name = name;
    r.key_hash = hash;
    r.created_at = created;
    return r;
  }

  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformanceTest, MigrationsAreAppliedOnceAndRecorded) {
  auto version = store_->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, SqliteMigrations().back().version);
  EXPECT_EQ(SqliteMigrations().size(), PostgresMigrations().size())
      << "both dialects must stay in step";
  auto again = store_->database().Migrate(GetParam().name == "postgres" ? PostgresMigrations()
                                                                        : SqliteMigrations());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *version);
  EXPECT_TRUE(store_->Ping().ok());
}

TEST_P(StoreConformanceTest, RefusesASchemaNewerThanTheBinary) {
  if (GetParam().name == "sqlite_memory")
    GTEST_SKIP() << "needs a second connection to the same database";
  ASSERT_TRUE(store_->CreateApiKey(Key("keep", "h1")).ok());
  ASSERT_TRUE(
      store_->database()
          .Exec(
              "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
          .ok());
  store_.reset();
  auto reopened = Store::Open(url_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(reopened.status().message().find("newer"), std::string::npos);
}

TEST_P(StoreConformanceTest, ApiKeyLifecycle) {
  std::string hash(32, '\0');
  for (size_t i = 0; i < hash.size(); ++i)
    hash[i] = static_cast<char>(0xe0 + i);  // high and NUL-free bytes
  hash[3] = '\0';
  ASSERT_TRUE(store_->CreateApiKey(Key("ci", hash, 50)).ok());
  ASSERT_TRUE(store_->CreateApiKey(Key("admin", "other-hash", 40)).ok());

  auto found = store_->FindApiKeyByHash(hash);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->name, "ci");
  EXPECT_EQ(found->key_hash, hash) << "binary hash must round-trip exactly";
  EXPECT_EQ(found->created_at, 50);
  EXPECT_FALSE(found->revoked_at.has_value());
  EXPECT_TRUE(store_->FindApiKeyByHash("nope").status().IsNotFound());

  Status dup = store_->CreateApiKey(Key("ci", "third-hash"));
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup.ToString();

  auto list = store_->ListApiKeys();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "admin") << "ordered by creation time";

  ASSERT_TRUE(store_->TouchApiKey("k_ci", 77).ok());
  ASSERT_TRUE(store_->RevokeApiKey("ci", 99).ok());
  found = store_->FindApiKeyByHash(hash);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->revoked_at.has_value());
  EXPECT_EQ(*found->revoked_at, 99);
  EXPECT_EQ(found->last_used_at.value_or(0), 77);
  EXPECT_TRUE(store_->RevokeApiKey("ci", 100).IsNotFound()) << "already revoked";
  EXPECT_TRUE(store_->RevokeApiKey("ghost", 100).IsNotFound());
  ASSERT_TRUE(store_->RevokeApiKey("k_admin", 101).ok()) << "revocable by id too";
}

TEST_P(StoreConformanceTest, ApiKeyScopeRoundTripsAndDefaultsToAdmin) {
  ApiKeyRecord reader = Key("reader", "hash-r");
  reader.scope = "read";
  ASSERT_TRUE(store_->CreateApiKey(reader).ok());
  ASSERT_TRUE(store_->CreateApiKey(Key("admin", "hash-a")).ok());
  EXPECT_EQ(store_->FindApiKeyByHash("hash-r")->scope, "read");
  EXPECT_EQ(store_->FindApiKeyByHash("hash-a")->scope, "admin");
  // A key made before scopes existed (no scope column written) is an admin key.
  ASSERT_TRUE(store_->database()
                  .Exec("INSERT INTO api_keys (id, name, key_hash, created_at) "
                        "VALUES ('k_old', 'old', $1, 1)",
                        {Blob{"hash-o"}})
                  .ok());
  EXPECT_EQ(store_->FindApiKeyByHash("hash-o")->scope, "admin");
}

// A store that refuses writes (read-only file system, hot standby): writes are Unavailable, and
// readiness stays false until a probe write works again.
TEST_P(StoreConformanceTest, RefusedWritesAreUnavailableAndReadinessWaitsForAWorkingWrite) {
  bool pg = GetParam().name == "postgres";
  auto set_read_only = [&](bool on) {
    std::string sql = pg ? std::string("SET default_transaction_read_only = ") + (on ? "on" : "off")
                         : std::string("PRAGMA query_only = ") + (on ? "1" : "0");
    ASSERT_TRUE(store_->database().Query(sql).ok()) << sql;
  };
  ASSERT_TRUE(store_->Ping().ok());
  set_read_only(true);
  Status refused = store_->CreateApiKey(Key("ro", "hash-ro"));
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  Status in_tx = store_->ApplyDepPage("s", {}, "cursor", "sync", 1);
  EXPECT_EQ(in_tx.code(), StatusCode::kUnavailable) << in_tx.ToString();
  ASSERT_TRUE(store_->database().LastWriteFailure().has_value());
  Status ready = store_->Ping();
  EXPECT_EQ(ready.code(), StatusCode::kUnavailable);
  EXPECT_NE(ready.message().find("writes fail"), std::string::npos) << ready.ToString();
  EXPECT_TRUE(store_->ListApiKeys().ok()) << "reads still work";
  set_read_only(false);
  EXPECT_TRUE(store_->Ping().ok());
  EXPECT_FALSE(store_->database().LastWriteFailure().has_value()) << "the probe cleared it";
  EXPECT_TRUE(store_->CreateApiKey(Key("ro", "hash-ro")).ok());
}

TEST_P(StoreConformanceTest, AuditLogAppendsAndPagesNewestFirst) {
  auto empty = store_->ListAudit(0, 10);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
  for (int i = 0; i < 25; ++i) {
    AuditRecord r;
    r.at = 1000 + i;
    r.actor_id = "k_" + std::to_string(i % 3);
    r.actor = "admin-" + std::to_string(i % 3);
    r.remote = "127.0.0.1:5000";
    r.method = i % 2 ? "PUT" : "POST";
    r.path = "/api/v1/dep/servers/s" + std::to_string(i);
    r.route = "/api/v1/dep/servers/{name}";
    r.status = i % 5 == 0 ? 409 : 200;
    if (r.status != 200) r.error = "conflict";
    ASSERT_TRUE(store_->RecordAudit(r).ok());
  }
  std::vector<AuditRecord> all;
  int64_t before = 0;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store_->ListAudit(before, 10);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    EXPECT_LE(page->size(), 10u);
    all.insert(all.end(), page->begin(), page->end());
    before = page->back().id;
  }
  ASSERT_EQ(all.size(), 25u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].id, all[i].id) << "newest first";
  const AuditRecord& newest = all.front();
  EXPECT_EQ(newest.at, 1024);
  EXPECT_EQ(newest.actor_id, "k_0");
  EXPECT_EQ(newest.actor, "admin-0");
  EXPECT_EQ(newest.remote, "127.0.0.1:5000");
  EXPECT_EQ(newest.method, "POST");
  EXPECT_EQ(newest.path, "/api/v1/dep/servers/s24");
  EXPECT_EQ(newest.route, "/api/v1/dep/servers/{name}");
  EXPECT_EQ(newest.status, 200);
  EXPECT_EQ(newest.error, "");
  EXPECT_EQ(all.back().status, 409);
  EXPECT_EQ(all.back().error, "conflict");
}

TEST_P(StoreConformanceTest, PushCertificateRoundTripAndReplace) {
  EXPECT_TRUE(store_->GetPushCert().status().IsNotFound());
  std::string sealed;
  for (int i = 0; i < 256; ++i) sealed.push_back(static_cast<char>(i));
  PushCertRecord first;
  first.topic = "com.apple.mgmt.External.1111";
  first.cert_pem = "-----BEGIN CERTIFICATE-----\nA\n";
  first.sealed_key = sealed;
  first.not_after = 1900000000;
  first.updated_at = 10;
  ASSERT_TRUE(store_->PutPushCert(first).ok());
  auto got = store_->GetPushCert();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->topic, first.topic);
  EXPECT_EQ(got->sealed_key, sealed) << "all 256 byte values must survive";
  EXPECT_EQ(got->not_after, 1900000000);

  PushCertRecord renewed = first;
  renewed.cert_pem = "renewed";
  renewed.not_after = 1950000000;
  ASSERT_TRUE(store_->PutPushCert(renewed).ok());
  got = store_->GetPushCert();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->cert_pem, "renewed");
  EXPECT_EQ(got->not_after, 1950000000);

  ASSERT_TRUE(store_->DeletePushCert().ok());
  EXPECT_TRUE(store_->GetPushCert().status().IsNotFound());
  EXPECT_TRUE(store_->DeletePushCert().IsNotFound());
}

TEST_P(StoreConformanceTest, PushCertificateDetailsAndPendingCsr) {
  PushCertRecord r;
  r.topic = "com.apple.mgmt.External.2222";
  r.cert_pem = "pem";
  r.sealed_key = "sealed";
  r.not_after = 1900000000;
  r.subject = "UID=com.apple.mgmt.External.2222,CN=APSP:2222,C=US";
  r.serial = "0a1b";
  r.not_before = 1800000000;
  r.apple_id = "mdm-admin@example.com";
  ASSERT_TRUE(store_->PutPushCert(r).ok());
  auto got = store_->GetPushCert();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->subject, r.subject);
  EXPECT_EQ(got->serial, "0a1b");
  EXPECT_EQ(got->not_before, 1800000000);
  EXPECT_EQ(got->apple_id, "mdm-admin@example.com");

  EXPECT_TRUE(store_->GetPendingCsr().status().IsNotFound());
  ASSERT_TRUE(store_->PutPendingCsr({"csr-1", std::string("k\0\xff", 3), 5}).ok());
  ASSERT_TRUE(store_->PutPendingCsr({"csr-2", "key-2", 6}).ok()) << "a new CSR replaces the old";
  auto csr = store_->GetPendingCsr();
  ASSERT_TRUE(csr.ok());
  EXPECT_EQ(csr->csr_pem, "csr-2");
  EXPECT_EQ(csr->sealed_key, "key-2");
  ASSERT_TRUE(store_->DeletePendingCsr().ok());
  EXPECT_TRUE(store_->GetPendingCsr().status().IsNotFound());
  EXPECT_TRUE(store_->DeletePendingCsr().ok()) << "deleting nothing is fine";
}

TEST_P(StoreConformanceTest, EnrollmentsAndPushTokenInvalidation) {
  for (int i = 0; i < 1203; ++i) {
    EnrollmentRecord e;
    char id[16];
    std::snprintf(id, sizeof id, "UDID-%05d", i);
    e.id = id;
    e.device_id = id;
    e.type = "Device";
    e.topic = "com.apple.mgmt.External.x";
    e.push_token_hex = std::string(64, 'a');
    e.push_magic = "magic-" + std::to_string(i);
    e.token_updated_at_ms = 1000;
    e.created_at = e.updated_at = 1;
    ASSERT_TRUE(store_->PutEnrollment(e).ok());
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 1203; i += 2) {
    char id[16];
    std::snprintf(id, sizeof id, "UDID-%05d", i);
    ids.push_back(id);
  }
  ids.push_back("UDID-missing");
  auto many = store_->GetEnrollments(ids);
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(many->size(), 602u) << "batched IN lists cover every id; missing ids are absent";

  auto page = store_->ListEnrollments("UDID-00010", 5);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ((*page)[0].id, "UDID-00011");
  EXPECT_EQ((*page)[0].push_magic, "magic-11");

  // A 410 older than the TokenUpdate is ignored; a newer one marks the token.
  auto applied = store_->MarkPushTokenInvalid("UDID-00001", 999);
  ASSERT_TRUE(applied.ok());
  EXPECT_FALSE(*applied);
  applied = store_->MarkPushTokenInvalid("UDID-00001", 2000);
  ASSERT_TRUE(applied.ok());
  EXPECT_TRUE(*applied);
  auto one = store_->GetEnrollment("UDID-00001");
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->token_invalid_at_ms.has_value());
  EXPECT_EQ(*one->token_invalid_at_ms, 2000);
  EXPECT_TRUE(store_->MarkPushTokenInvalid("nobody", 5).status().IsNotFound());

  // The same token re-sent keeps the mark; a new token clears it.
  EnrollmentRecord again = *one;
  again.token_updated_at_ms = 3000;
  ASSERT_TRUE(store_->PutEnrollment(again).ok());
  EXPECT_TRUE(store_->GetEnrollment("UDID-00001")->token_invalid_at_ms.has_value());
  again.push_token_hex = std::string(64, 'b');
  ASSERT_TRUE(store_->PutEnrollment(again).ok());
  one = store_->GetEnrollment("UDID-00001");
  EXPECT_FALSE(one->token_invalid_at_ms.has_value());
  EXPECT_EQ(one->push_token_hex, std::string(64, 'b'));
  EXPECT_TRUE(store_->GetEnrollment("nobody").status().IsNotFound());
}

TEST_P(StoreConformanceTest, PortalBrandingWithAndWithoutLogo) {
  EXPECT_TRUE(store_->GetPortal().status().IsNotFound());
  PortalRecord r;
  r.document = R"({"company_name":"Example"})";
  std::string png("\x89PNG\r\n\x1a\n\0\0binary", 16);
  r.logo = png;
  r.logo_type = "image/png";
  r.updated_at = 10;
  ASSERT_TRUE(store_->PutPortal(r).ok());
  auto got = store_->GetPortal();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->document, r.document);
  ASSERT_TRUE(got->logo.has_value());
  EXPECT_EQ(*got->logo, png) << "binary bytes kept exactly";
  EXPECT_EQ(got->logo_type, "image/png");
  r.logo.reset();
  r.logo_type = "";
  r.document = R"({"company_name":"Renamed"})";
  r.updated_at = 11;
  ASSERT_TRUE(store_->PutPortal(r).ok());
  got = store_->GetPortal();
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->logo.has_value());
  EXPECT_EQ(got->document, r.document);
  EXPECT_EQ(got->updated_at, 11);
}

TEST_P(StoreConformanceTest, CheckInRecordsBindingAndRouting) {
  // The gateway served this serial a profile, and a DEP server lists it.
  EnrollmentEventRecord served;
  served.at = 5;
  served.event = "profile_served";
  served.profile_id = "ep_1";
  served.method = "usb-sa";
  served.serial = "SER1";
  ASSERT_TRUE(store_->RecordEnrollmentEvent(served).ok());
  DepServerRecord server;
  server.name = "corp";
  server.base_url = "https://dep";
  server.sync_interval_seconds = 60;
  ASSERT_TRUE(store_->PutDepServer(server).ok());
  DepDeviceRecord dep;
  dep.server = "corp";
  dep.serial = "SER1";
  ASSERT_TRUE(store_->ApplyDepPage("corp", {dep}, "c1", "fetch", 10).ok());

  EnrollmentRecord auth;
  auth.id = auth.device_id = "UDID-1";
  auth.type = "Device";
  auth.topic = "topic";
  auth.serial = "SER1";
  auth.model = "iPad13,1";
  auth.os_version = "17.4";
  auth.created_at = auth.updated_at = 100;
  ASSERT_TRUE(store_->RecordAuthenticate(auth, {"UDID-1", "aa", 5000, 100}).ok());
  auto got = store_->GetEnrollment("UDID-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, "authenticated");
  EXPECT_EQ(got->enrollment_method, "usb-sa");
  EXPECT_EQ(got->dep_server, "corp");
  EXPECT_EQ(got->last_seen_at, 100);
  EXPECT_EQ(store_->GetDeviceIdentity("UDID-1")->cert_sha256, "aa");

  EnrollmentRecord token;
  token.id = token.device_id = "UDID-1";
  token.type = "Device";
  token.topic = "topic";
  token.push_token_hex = "0102";
  token.push_magic = "magic";
  token.token_updated_at_ms = 200000;
  token.sealed_unlock_token = std::string("\x00sealed\xff", 8);
  token.awaiting_configuration = true;
  token.created_at = token.updated_at = 200;
  ASSERT_TRUE(store_->RecordTokenUpdate(token).ok());
  got = store_->GetEnrollment("UDID-1");
  EXPECT_EQ(got->status, "enrolled");
  EXPECT_EQ(got->serial, "SER1") << "Authenticate's details stay";
  EXPECT_EQ(got->push_magic, "magic");
  EXPECT_TRUE(got->awaiting_configuration);
  ASSERT_TRUE(got->sealed_unlock_token.has_value());
  EXPECT_EQ(*got->sealed_unlock_token, std::string("\x00sealed\xff", 8));
  // A later TokenUpdate without UnlockToken keeps the stored one.
  token.sealed_unlock_token.reset();
  token.awaiting_configuration = false;
  ASSERT_TRUE(store_->RecordTokenUpdate(token).ok());
  EXPECT_TRUE(store_->GetEnrollment("UDID-1")->sealed_unlock_token.has_value());

  // A user channel inherits the device's details.
  EnrollmentRecord user = token;
  user.id = "UDID-1:USER-1";
  user.type = "User";
  user.user_id = "USER-1";
  user.user_short_name = "ann";
  ASSERT_TRUE(store_->RecordTokenUpdate(user).ok());
  auto u = store_->GetEnrollment("UDID-1:USER-1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->serial, "SER1");
  EXPECT_EQ(u->user_short_name, "ann");

  ASSERT_TRUE(store_->TouchEnrollment("UDID-1", 300).ok());
  EXPECT_EQ(store_->GetEnrollment("UDID-1")->last_seen_at, 300);
  ASSERT_TRUE(store_->RecordCheckOut("UDID-1", 400).ok());
  EXPECT_EQ(store_->GetEnrollment("UDID-1")->status, "checked_out");
  EXPECT_EQ(store_->GetEnrollment("UDID-1:USER-1")->status, "checked_out") << "its user too";

  // Re-Authenticate re-binds; expiry listing and removal.
  ASSERT_TRUE(store_->RecordAuthenticate(auth, {"UDID-1", "bb", 9000, 500}).ok());
  EXPECT_EQ(store_->GetDeviceIdentity("UDID-1")->cert_sha256, "bb");
  ASSERT_TRUE(store_->PutDeviceIdentity({"UDID-2", "cc", 1000, 500}).ok());
  auto expired = store_->ListExpiredIdentities(5000, 10);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].device_id, "UDID-2");
  auto removed = store_->DeleteDevice("UDID-1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2) << "the device and its user channel";
  EXPECT_TRUE(store_->GetDeviceIdentity("UDID-1").status().IsNotFound());

  EXPECT_TRUE(store_->GetRouting().status().IsNotFound());
  ASSERT_TRUE(store_->PutRouting(R"({"default":"default"})", 1).ok());
  ASSERT_TRUE(store_->PutRouting(R"({"devices":{}})", 2).ok());
  EXPECT_EQ(*store_->GetRouting(), R"({"devices":{}})");
}

TEST_P(StoreConformanceTest, DepServersRoundTrip) {
  EXPECT_TRUE(store_->GetDepServer("main").status().IsNotFound());
  DepServerRecord r;
  r.name = "main";
  r.base_url = "https://mdmenrollment.apple.com";
  r.cert_pem = "pem";
  r.sealed_key = std::string("\x01\x00\xff", 3);
  r.created_at = r.updated_at = 5;
  ASSERT_TRUE(store_->PutDepServer(r).ok());
  DepServerRecord other = r;
  other.name = "a-second";
  ASSERT_TRUE(store_->PutDepServer(other).ok());
  r.consumer_key = "CK_1";
  r.sealed_token = "sealed";
  r.token_expiry = 1900000000;
  r.server_uuid = "uuid";
  r.sync_interval_seconds = 600;
  ASSERT_TRUE(store_->PutDepServer(r).ok());
  auto got = store_->GetDepServer("main");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sealed_key, std::string("\x01\x00\xff", 3));
  EXPECT_EQ(got->consumer_key, "CK_1");
  EXPECT_EQ(got->token_expiry, 1900000000);
  EXPECT_EQ(got->sync_interval_seconds, 600);
  auto list = store_->ListDepServers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a-second");
  ASSERT_TRUE(store_->DeleteDepServer("main").ok());
  EXPECT_TRUE(store_->DeleteDepServer("main").IsNotFound());
}

TEST_P(StoreConformanceTest, DepDevicePagesAndLatestOpDateWins) {
  auto fresh = store_->GetDepSyncState("main");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->phase, "fetch");
  EXPECT_EQ(fresh->cursor, "");
  std::vector<DepDeviceRecord> page;
  for (int i = 0; i < 5; ++i) {
    DepDeviceRecord d;
    d.serial = "C02SERIAL00" + std::to_string(i);
    d.model = "iPad";
    d.op_date = 100;
    page.push_back(d);
  }
  ASSERT_TRUE(store_->ApplyDepPage("main", page, "cursor-1", "fetch", 100).ok());
  EXPECT_EQ(*store_->CountDepDevices("main"), 5);
  EXPECT_EQ(store_->GetDepSyncState("main")->cursor, "cursor-1");

  // A newer event wins; an older one is ignored; a delete hides the device.
  DepDeviceRecord newer = page[0];
  newer.model = "iPad Pro";
  newer.op_type = "modified";
  newer.op_date = 200;
  DepDeviceRecord older = page[1];
  older.model = "stale";
  older.op_date = 50;
  DepDeviceRecord gone = page[2];
  gone.op_type = "deleted";
  gone.deleted = true;
  gone.op_date = 300;
  ASSERT_TRUE(store_->ApplyDepPage("main", {newer, older, gone}, "cursor-2", "sync", 200).ok());
  auto list = store_->ListDepDevices("main", "", 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[0].model, "iPad Pro");
  EXPECT_EQ((*list)[1].model, "iPad");
  auto state = store_->GetDepSyncState("main");
  EXPECT_EQ(state->cursor, "cursor-2");
  EXPECT_EQ(state->phase, "sync");
  ASSERT_TRUE(store_->PutDepSyncResult("main", 77, "{}").ok());
  EXPECT_EQ(store_->GetDepSyncState("main")->last_sync_at, 77);
  EXPECT_EQ(store_->GetDepSyncState("main")->cursor, "cursor-2") << "result does not touch cursor";
  EXPECT_EQ(*store_->CountDepDevices("other"), 0);
}

TEST_P(StoreConformanceTest, DepProfilesAssignmentsAndDueDevices) {
  DepServerRecord server;
  server.name = "main";
  server.base_url = "https://dep.example";
  server.cert_pem = "pem";
  server.sealed_key = "k";
  ASSERT_TRUE(store_->PutDepServer(server).ok());
  EXPECT_TRUE(store_->SetDepDefaultProfile("nope", "x").IsNotFound());
  EXPECT_TRUE(store_->GetDepProfile("main", "dep").status().IsNotFound());
  ASSERT_TRUE(store_->PutDepProfile({"main", "dep", "UUID1", R"({"url":"u"})", 10, ""}).ok());
  ASSERT_TRUE(store_->PutDepProfile({"main", "dep", "UUID2", R"({"url":"v"})", 20, "ep_x"}).ok());
  EXPECT_EQ(store_->GetDepProfile("main", "dep")->profile_uuid, "UUID2") << "redefined in place";
  EXPECT_EQ(store_->GetDepProfile("main", "dep")->enrollment_profile, "ep_x");
  ASSERT_TRUE(store_->SetDepDefaultProfile("main", "dep").ok());
  server.base_url = "https://changed.example";
  ASSERT_TRUE(store_->PutDepServer(server).ok());
  EXPECT_EQ(store_->GetDepServer("main")->default_profile, "dep") << "PutDepServer keeps it";

  // Five devices: A has a profile at Apple; B..E have none.
  std::vector<DepDeviceRecord> page;
  for (const char* serial :
       {"A0000000001", "B000000002", "C00000000003", "D0000000004", "E0000000005"}) {
    DepDeviceRecord d;
    d.serial = serial;
    d.op_date = 100;
    d.profile_status = "empty";
    page.push_back(d);
  }
  page[0].profile_status = "assigned";
  page[0].profile_uuid = "OTHER";
  ASSERT_TRUE(store_->ApplyDepPage("main", page, "c1", "sync", 100).ok());
  auto due = store_->ListDepDevicesToAssign("main", 1000, "", 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due,
            (std::vector<std::string>{"B000000002", "C00000000003", "D0000000004", "E0000000005"}));
  EXPECT_EQ(store_->ListDepDevicesToAssign("main", 1000, "C00000000003", 1)->front(), "D0000000004")
      << "pages by serial";

  ASSERT_TRUE(
      store_
          ->RecordDepAssignments("main", {{"B000000002", "UUID2", "success", 1000, 0},
                                          {"C00000000003", "UUID2", "throttled", 1000, 1600},
                                          {"D0000000004", "UUID2", "failed", 1000, 1000 + 86400},
                                          {"E0000000005", "UUID2", "not_accessible", 1000, 0}})
          .ok());
  EXPECT_TRUE(store_->ListDepDevicesToAssign("main", 1500, "", 10)->empty()) << "nothing due yet";
  EXPECT_EQ(*store_->ListDepDevicesToAssign("main", 1600, "", 10),
            std::vector<std::string>{"C00000000003"})
      << "throttled: due at its retry time";
  auto counted = store_->CountDepDevicesByState("main");
  ASSERT_TRUE(counted.ok());
  std::map<std::string, int64_t> states = *counted;
  EXPECT_EQ(states["assigned"], 2);  // A (Apple's) and B (ours)
  EXPECT_EQ(states["throttled"], 1);
  EXPECT_EQ(states["failed"], 1);
  EXPECT_EQ(states["not_accessible"], 1);
  auto throttled = store_->ListDepDevices("main", "", 10, "throttled");
  ASSERT_EQ(throttled->size(), 1u);
  EXPECT_EQ(throttled->front().serial, "C00000000003");
  EXPECT_EQ(throttled->front().assign_retry_at, 1600);
  EXPECT_EQ(throttled->front().assign_attempts, 1);
  auto b = store_->ListDepDevices("main", "A0000000001", 1);
  EXPECT_EQ(b->front().profile_uuid, "UUID2") << "a success marks the device";
  EXPECT_EQ(b->front().assignment, "assigned");

  // Apple later reports B's profile removed and E modified: both are due again. A removal the
  // admin made through the gateway ("removed") is not.
  DepDeviceRecord b_removed = page[1];
  b_removed.profile_status = "removed";
  b_removed.op_type = "modified";
  b_removed.op_date = 2000;
  DepDeviceRecord e_modified = page[4];
  e_modified.op_type = "modified";
  e_modified.op_date = 2000;
  ASSERT_TRUE(store_->ApplyDepPage("main", {b_removed, e_modified}, "c2", "sync", 2000).ok());
  EXPECT_EQ(*store_->ListDepDevicesToAssign("main", 1500, "", 10),
            (std::vector<std::string>{"B000000002", "E0000000005"}));
  ASSERT_TRUE(store_->RecordDepAssignments("main", {{"B000000002", "", "removed", 2100, 0}}).ok());
  EXPECT_EQ(*store_->ListDepDevicesToAssign("main", 1500, "", 10),
            std::vector<std::string>{"E0000000005"});
  ASSERT_TRUE(
      store_->RecordDepAssignments("main", {{"E0000000005", "UUID2", "failed", 2100, 2200}}).ok());
  EXPECT_EQ(store_->ListDepDevices("main", "D0000000004", 1)->front().assign_attempts, 2);

  EXPECT_EQ(store_->GetDepSyncState("main")->cursor_at, 2000);
  ASSERT_TRUE(store_->DeleteDepServer("main").ok());
  EXPECT_TRUE(store_->ListDepProfiles("main")->empty()) << "profiles go with the server";
  EXPECT_EQ(*store_->CountDepDevices("main"), 0);
}

TEST_P(StoreConformanceTest, EnrollmentProfilesByIdAndName) {
  EnrollmentProfileRecord a{"ep_a", "Corp iPads", "dep", R"({"locked":true})", 10, 10};
  EnrollmentProfileRecord b{"ep_b", "BYOD", "ota", "{}", 11, 11};
  ASSERT_TRUE(store_->CreateEnrollmentProfile(a).ok());
  ASSERT_TRUE(store_->CreateEnrollmentProfile(b).ok());
  EnrollmentProfileRecord clash{"ep_c", "BYOD", "ota", "{}", 12, 12};
  EXPECT_EQ(store_->CreateEnrollmentProfile(clash).reason(), "name_taken");
  EXPECT_EQ(store_->GetEnrollmentProfile("ep_a")->name, "Corp iPads");
  EXPECT_EQ(store_->GetEnrollmentProfile("BYOD")->id, "ep_b") << "by name";
  EXPECT_TRUE(store_->GetEnrollmentProfile("ep_c").status().IsNotFound());
  a.settings_json = R"({"locked":false})";
  a.updated_at = 20;
  ASSERT_TRUE(store_->UpdateEnrollmentProfile(a).ok());
  EXPECT_EQ(store_->GetEnrollmentProfile("ep_a")->settings_json, R"({"locked":false})");
  a.name = "BYOD";
  EXPECT_EQ(store_->UpdateEnrollmentProfile(a).reason(), "name_taken");
  EXPECT_EQ(store_->GetEnrollmentProfile("ep_a")->name, "Corp iPads") << "unchanged";
  auto list = store_->ListEnrollmentProfiles();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "BYOD");
  ASSERT_TRUE(store_->DeleteEnrollmentProfile("ep_b").ok());
  EXPECT_TRUE(store_->DeleteEnrollmentProfile("ep_b").IsNotFound());
  EXPECT_TRUE(store_->UpdateEnrollmentProfile(b).IsNotFound());
}

TEST_P(StoreConformanceTest, EnrollmentLinksCountUsesAndExpire) {
  EnrollmentLinkRecord invite{"h1", "ota-invitation", "ep_a", "alice", 10, 100, 1, 0, 0};
  EnrollmentLinkRecord dem{"h2", "dem", "ep_b", "mgr", 11, 0, 3, 0, 0};
  ASSERT_TRUE(store_->CreateEnrollmentLink(invite).ok());
  ASSERT_TRUE(store_->CreateEnrollmentLink(dem).ok());
  EXPECT_TRUE(store_->UseEnrollmentLink("nope", 50).status().IsNotFound());
  EXPECT_EQ(store_->UseEnrollmentLink("h1", 100).status().reason(), "link_expired");
  auto used = store_->UseEnrollmentLink("h1", 50);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(used->uses, 1);
  EXPECT_EQ(store_->UseEnrollmentLink("h1", 50).status().reason(), "link_used_up");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->UseEnrollmentLink("h2", 1'000'000).ok());
  EXPECT_EQ(store_->UseEnrollmentLink("h2", 1'000'000).status().reason(), "link_used_up");
  auto dems = store_->ListEnrollmentLinks("dem");
  ASSERT_EQ(dems->size(), 1u);
  EXPECT_EQ((*dems)[0].uses, 3) << "refused uses are not counted";
  EXPECT_EQ(store_->ListEnrollmentLinks("")->size(), 2u);
}

TEST_P(StoreConformanceTest, IncompleteEnrollmentReports) {
  // Served a profile at 100: U1 never sent a TokenUpdate, U2 did (at 150 s), U3 was served again
  // at 300 (only the latest counts), and one link download without a device.
  for (auto [at, serial, udid] :
       {std::tuple{100, "S1", "U1"}, std::tuple{100, "S2", "U2"}, std::tuple{100, "S3", "U3"},
        std::tuple{300, "S3", "U3"}, std::tuple{100, "", ""}}) {
    ASSERT_TRUE(
        store_->RecordEnrollmentEvent({0, at, "profile_served", "ep_a", "dep", serial, udid, "{}"})
            .ok());
  }
  EnrollmentRecord u2;
  u2.id = "U2";
  u2.device_id = "U2";
  u2.type = "Device";
  u2.topic = "t";
  u2.push_token_hex = "aa";
  u2.push_magic = "m";
  u2.token_updated_at_ms = 150000;
  ASSERT_TRUE(store_->PutEnrollment(u2).ok());
  auto stalled = store_->ListStalledEnrollments(200, 10);
  ASSERT_TRUE(stalled.ok()) << stalled.status().ToString();
  ASSERT_EQ(stalled->size(), 1u);
  EXPECT_EQ((*stalled)[0].udid, "U1");
  EXPECT_EQ(store_->ListStalledEnrollments(400, 10)->size(), 2u) << "U1 and U3's latest";
  EXPECT_EQ(*store_->CountAnonymousDownloads(200), 1);

  std::vector<DepDeviceRecord> page(3);
  page[0].serial = "S1";  // fetched a profile: enrolled
  page[1].serial = "S9";  // assigned, never fetched
  page[2].serial = "S8";  // no profile
  for (auto& d : page) d.op_date = 50;
  page[0].profile_uuid = page[1].profile_uuid = "P";
  page[0].profile_status = page[1].profile_status = "assigned";
  page[2].profile_status = "empty";
  for (auto& d : page) d.updated_at = 60;
  ASSERT_TRUE(store_->ApplyDepPage("main", page, "c", "sync", 60).ok());
  auto never = store_->ListUnenrolledDepDevices(100, 10);
  ASSERT_TRUE(never.ok()) << never.status().ToString();
  ASSERT_EQ(never->size(), 1u);
  EXPECT_EQ((*never)[0].serial, "S9");
  EXPECT_TRUE(store_->ListUnenrolledDepDevices(10, 10)->empty()) << "not yet N hours";
}

TEST_P(StoreConformanceTest, FailedTransactionChangesNothing) {
  ASSERT_TRUE(store_->CreateApiKey(Key("before", "h-before")).ok());
  Status s = store_->database().Transaction([&]() -> Status {
    MDMGW_RETURN_IF_ERROR(store_->CreateApiKey(Key("inside", "h-inside")));
    return Status::Internal("abort");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(store_->FindApiKeyByHash("h-inside").status().IsNotFound()) << "rolled back";
  EXPECT_TRUE(store_->FindApiKeyByHash("h-before").ok()) << "earlier data kept";

  // A constraint failure inside a transaction also rolls back the whole body.
  s = store_->database().Transaction([&]() -> Status {
    MDMGW_RETURN_IF_ERROR(store_->CreateApiKey(Key("fresh", "h-fresh")));
    return store_->CreateApiKey(Key("before", "h-dup"));
  });
  EXPECT_TRUE(s.IsAlreadyExists());
  EXPECT_TRUE(store_->FindApiKeyByHash("h-fresh").status().IsNotFound());
}

TEST_P(StoreConformanceTest, BadSqlIsAnErrorNotACrash) {
  auto r = store_->database().Query("SELECT * FROM no_such_table");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(store_->Ping().ok()) << "connection still usable";
}

// Leases: one holder at a time, renewal keeps the token, a takeover (release or expiry) moves it
// on, and the old holder's fenced writes are refused from then on.
TEST_P(StoreConformanceTest, LeasesHaveOneHolderAndFenceTheOldOneAfterATakeover) {
  auto a = store_->AcquireLease("dep-sync:main", "instance-a", 60000);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->holder, "instance-a");
  EXPECT_TRUE(a->held());
  int64_t token_a = a->token;
  auto b = store_->AcquireLease("dep-sync:main", "instance-b", 60000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->holder, "instance-a") << "held by a: b does not get it";
  EXPECT_EQ(b->token, token_a);
  auto again = store_->AcquireLease("dep-sync:main", "instance-a", 60000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->token, token_a) << "taking it again while held is a renewal";
  EXPECT_TRUE(store_->RenewLease("dep-sync:main", "instance-a", token_a, 60000).ok());
  EXPECT_EQ(store_->RenewLease("dep-sync:main", "instance-b", token_a, 60000).reason(),
            "lease_lost");

  LeaseFence fence_a{"dep-sync:main", "instance-a", token_a};
  ASSERT_TRUE(store_->ApplyDepPage("main", {}, "cursor-a", "fetch", 10, &fence_a).ok());

  // a lets go; b takes it with a new token; a's writes are fenced off and change nothing.
  ASSERT_TRUE(store_->ReleaseLease("dep-sync:main", "instance-a", token_a).ok());
  auto taken = store_->AcquireLease("dep-sync:main", "instance-b", 60000);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->holder, "instance-b");
  EXPECT_GT(taken->token, token_a);
  DepDeviceRecord late;
  late.serial = "LATE";
  late.op_date = 5;
  Status stale = store_->ApplyDepPage("main", {late}, "cursor-stale", "sync", 20, &fence_a);
  EXPECT_EQ(stale.reason(), "lease_lost") << stale.ToString();
  EXPECT_EQ(store_->GetDepSyncState("main")->cursor, "cursor-a");
  EXPECT_EQ(*store_->CountDepDevices("main"), 0);
  EXPECT_EQ(store_->RenewLease("dep-sync:main", "instance-a", token_a, 60000).reason(),
            "lease_lost");
  LeaseFence fence_b{"dep-sync:main", "instance-b", taken->token};
  EXPECT_TRUE(store_->ApplyDepPage("main", {late}, "cursor-b", "sync", 20, &fence_b).ok());
  EXPECT_EQ(store_->GetDepSyncState("main")->cursor, "cursor-b");

  // Expiry: a lease not renewed goes to the next asker, with a new token, even back to its old
  // holder.
  auto brief = store_->AcquireLease("housekeeping", "instance-a", 1);
  ASSERT_TRUE(brief.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto after = store_->AcquireLease("housekeeping", "instance-b", 60000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->holder, "instance-b");
  EXPECT_EQ(after->token, brief->token + 1);
  auto back = store_->AcquireLease("housekeeping", "instance-b", 60000);
  EXPECT_EQ(back->token, after->token);

  // A restarted instance frees what its previous life held, and fences that life off.
  auto other = store_->AcquireLease("other", "instance-old", 60000);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*store_->ForfeitLeases("instance-old"), 1);
  EXPECT_EQ(*store_->ForfeitLeases("instance-old"), 0) << "nothing left to free";
  EXPECT_EQ(store_->RenewLease("other", "instance-old", other->token, 60000).reason(),
            "lease_lost");
  auto next = store_->AcquireLease("other", "instance-new", 60000);
  EXPECT_EQ(next->holder, "instance-new") << "free at once, no expiry to wait for";
  EXPECT_EQ(next->token, other->token + 2);

  auto all = store_->ListLeases();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "dep-sync:main");
  EXPECT_EQ((*all)[1].name, "housekeeping");
  EXPECT_EQ((*all)[2].name, "other");
  EXPECT_TRUE(store_->GetLease("never").status().IsNotFound());
  // Release keeps the row (a token never repeats) but frees the lease.
  ASSERT_TRUE(store_->ReleaseLease("housekeeping", "instance-b", after->token).ok());
  auto freed = store_->GetLease("housekeeping");
  ASSERT_TRUE(freed.ok());
  EXPECT_FALSE(freed->held());
  EXPECT_EQ(freed->token, after->token);
}

TEST_P(StoreConformanceTest, DepSyncScheduleIsSharedAndKeptByPages) {
  EXPECT_EQ(store_->GetDepSyncState("main")->next_sync_at, 0) << "never synced: due now";
  ASSERT_TRUE(store_->SetDepNextSyncAt("main", 5000).ok());
  ASSERT_TRUE(store_->ApplyDepPage("main", {}, "c1", "fetch", 100).ok());
  auto state = store_->GetDepSyncState("main");
  EXPECT_EQ(state->next_sync_at, 5000);
  EXPECT_EQ(state->cursor, "c1");
  ASSERT_TRUE(store_->SetDepNextSyncAt("main", 7000).ok());
  EXPECT_EQ(store_->GetDepSyncState("main")->cursor, "c1");
  EXPECT_EQ(store_->GetDepSyncState("main")->next_sync_at, 7000);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

TEST(StoreOpenTest, RejectsUnknownUrlsAndRedactsPasswords) {
  auto bad = Store::Open("mysql://root:hunter2@db/x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("hunter2"), std::string::npos) << bad.status().message();
  EXPECT_EQ(RedactStoreUrl("postgres://gw:s3cret@db:5432/gw"), "postgres://gw:****@db:5432/gw");
  EXPECT_EQ(RedactStoreUrl("postgres://gw@db/gw"), "postgres://gw@db/gw");
  auto unreachable = Store::Open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace mdmgw::store
