#include "gateway/master_key.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/random.h"
#include "common/seal_contexts.h"

namespace mdmgw::gateway {
namespace {

constexpr std::string_view kCheckText = "mdm-gateway master key check v1";

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The check value, or "" when the store has none yet.
Result<std::string> ReadCheck(store::SqlDatabase& db) {
  auto rows = db.Query("SELECT sealed FROM master_key_check WHERE id = 1");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::string();
  return store::AsText(rows->front()[0]);
}

Status WriteCheck(store::SqlDatabase& db, const SecretBox& box, int64_t now) {
  return db
      .Exec(
          "INSERT INTO master_key_check (id, sealed, updated_at) VALUES (1, $1, $2) "
          "ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed, updated_at = "
          "excluded.updated_at",
          {store::Blob{box.Seal(kCheckText, seal_context::kMasterKeyCheck)}, now})
      .status();
}

bool OpensCheck(const SecretBox& box, const std::string& sealed) {
  auto opened = box.Open(sealed, seal_context::kMasterKeyCheck);
  return opened.ok() && opened->Expose() == kCheckText;
}

// A crash between writing master.key.next and renaming it leaves both files; the check value
// opens with the key the store's values are sealed with.
Status SettleInterruptedRotation(store::SqlDatabase& db, const std::string& data_dir) {
  std::string next_path = data_dir + "/master.key.next";
  if (!Exists(next_path)) return Status::Ok();
  auto next_text = ReadFile(next_path);
  if (!next_text.ok()) return next_text.status();
  Secret<std::string> text(std::move(next_text).value());
  auto next = SecretBox::FromBase64(text.Expose());
  auto check = ReadCheck(db);
  if (!check.ok()) return check.status();
  if (next.ok() && !check->empty() && OpensCheck(*next, *check)) {
    std::error_code ec;
    std::filesystem::rename(next_path, data_dir + "/master.key", ec);
    if (ec) return Status::Internal("cannot rename " + next_path + ": " + ec.message());
    log::Warn("finished an interrupted master key rotation: the store was re-sealed",
              {{"key_file", data_dir + "/master.key"}});
  } else {
    std::remove(next_path.c_str());
    log::Warn("rolled back an interrupted master key rotation: the store kept the old key",
              {{"key_file", data_dir + "/master.key"}});
  }
  return Status::Ok();
}

Status CheckKey(store::SqlDatabase& db, const MasterKeySource& key) {
  auto check = ReadCheck(db);
  if (!check.ok()) return check.status();
  if (check->empty()) {
    // First start on this store (or the first since checks exist): this key is the store's.
    return WriteCheck(db, key.box, Clock::System().NowUnixSeconds());
  }
  if (!OpensCheck(key.box, *check)) {
    return Status::FailedPrecondition(
        "the master key from " + key.origin +
            " is not the key this store's secrets are sealed with; use the master key this "
            "store was created (or last rotated) with",
        "wrong_master_key");
  }
  return Status::Ok();
}

// One sealed column: rows of (row key..., sealed) and the context for a row.
struct SealedColumn {
  std::string table;
  std::string column;
  std::string select;  // row id columns, then the sealed column
  std::string update;  // $1 = new sealed value, $2.. = the row id columns
  int id_columns;
  std::function<std::string(const store::SqlRow&)> context;
};

const std::vector<SealedColumn>& Columns() {
  using store::AsText;
  static const auto* columns = new std::vector<SealedColumn>{
      {"push_certificates", "sealed_key", "SELECT id, topic, sealed_key FROM push_certificates",
       "UPDATE push_certificates SET sealed_key = $1 WHERE id = $2 AND topic = $3", 2,
       [](const store::SqlRow& r) { return seal_context::ApnsKey(AsText(r[1])); }},
      {"apns_pending_csr", "sealed_key", "SELECT id, sealed_key FROM apns_pending_csr",
       "UPDATE apns_pending_csr SET sealed_key = $1 WHERE id = $2", 1,
       [](const store::SqlRow&) { return std::string(seal_context::kApnsCsrKey); }},
      {"dep_servers", "sealed_key", "SELECT name, sealed_key FROM dep_servers",
       "UPDATE dep_servers SET sealed_key = $1 WHERE name = $2", 1,
       [](const store::SqlRow& r) { return seal_context::DepKey(AsText(r[0])); }},
      {"dep_servers", "sealed_token", "SELECT name, sealed_token FROM dep_servers",
       "UPDATE dep_servers SET sealed_token = $1 WHERE name = $2", 1,
       [](const store::SqlRow& r) { return seal_context::DepToken(AsText(r[0])); }},
      {"enrollment_ca", "sealed_key", "SELECT id, sealed_key FROM enrollment_ca",
       "UPDATE enrollment_ca SET sealed_key = $1 WHERE id = $2", 1,
       [](const store::SqlRow&) { return std::string(seal_context::kEnrollmentCaKey); }},
      {"enrollments", "sealed_unlock_token",
       "SELECT id, device_id, sealed_unlock_token FROM enrollments "
       "WHERE sealed_unlock_token IS NOT NULL",
       "UPDATE enrollments SET sealed_unlock_token = $1 WHERE id = $2 AND device_id = $3", 2,
       [](const store::SqlRow& r) { return seal_context::UnlockToken(AsText(r[1])); }},
  };
  return *columns;
}

Result<std::string> Reseal(const SecretBox& from, const SecretBox& to, const std::string& sealed,
                           const std::string& context, const std::string& where) {
  auto plain = from.Open(sealed, context);
  if (!plain.ok()) {
    return Status::DataLoss(
        where + " does not open with the current master key: " + plain.status().message());
  }
  return to.Seal(plain->Expose(), context);
}

}  // namespace

const std::vector<std::string>& SealedColumns() {
  static const auto* names = [] {
    auto* v = new std::vector<std::string>();
    for (const auto& c : Columns()) v->push_back(c.table + "." + c.column);
    v->push_back("enrollment_profiles.settings:identity.sealed_challenge");
    v->push_back("master_key_check.sealed");
    return v;
  }();
  return *names;
}

Result<MasterKey> OpenMasterKey(store::Store& store, const std::string& data_dir,
                                std::string_view env_value) {
  if (env_value.empty())
    MDMGW_RETURN_IF_ERROR(SettleInterruptedRotation(store.database(), data_dir));
  auto key = LoadOrCreateMasterKey(data_dir, env_value);
  if (!key.ok()) return key.status();
  MDMGW_RETURN_IF_ERROR(CheckKey(store.database(), *key));
  return MasterKey{std::move(key->box), std::move(key->origin), key->created};
}

Result<int64_t> ResealAll(store::SqlDatabase& db, const SecretBox& from, const SecretBox& to,
                          int64_t now, const RotationProgress& progress) {
  int64_t done = 0;
  auto tick = [&] {
    ++done;
    if (progress && done % 10000 == 0) progress(done);
  };
  Status s = db.Transaction([&]() -> Status {
    for (const SealedColumn& c : Columns()) {
      auto rows = db.Query(c.select);
      if (!rows.ok()) return rows.status();
      for (const store::SqlRow& row : *rows) {
        std::string sealed = store::AsText(row[static_cast<size_t>(c.id_columns)]);
        if (store::IsNull(row[static_cast<size_t>(c.id_columns)]) || sealed.empty()) continue;
        auto resealed = Reseal(from, to, sealed, c.context(row),
                               c.table + "." + c.column + " of '" + store::AsText(row[0]) + "'");
        if (!resealed.ok()) return resealed.status();
        std::vector<store::SqlValue> params{store::Blob{std::move(resealed).value()}};
        for (int i = 0; i < c.id_columns; ++i) params.push_back(row[static_cast<size_t>(i)]);
        auto updated = db.Exec(c.update, params);
        if (!updated.ok()) return updated.status();
        tick();
      }
    }
    // SCEP challenges live inside a profile's settings document (base64 of the sealed bytes).
    auto profiles = db.Query("SELECT id, settings FROM enrollment_profiles");
    if (!profiles.ok()) return profiles.status();
    for (const store::SqlRow& row : *profiles) {
      std::string id = store::AsText(row[0]);
      auto settings = nlohmann::json::parse(store::AsText(row[1]), nullptr, false);
      if (!settings.is_object() || !settings.contains("identity") ||
          !settings["identity"].is_object()) {
        continue;
      }
      auto& identity = settings["identity"];
      std::string encoded = identity.value("sealed_challenge", "");
      if (encoded.empty()) continue;
      auto sealed = Base64Decode(encoded);
      if (!sealed.ok()) {
        return Status::DataLoss("the SCEP challenge of profile '" + id + "' is not base64");
      }
      auto resealed = Reseal(from, to, *sealed, seal_context::ScepChallenge(id),
                             "the SCEP challenge of profile '" + id + "'");
      if (!resealed.ok()) return resealed.status();
      identity["sealed_challenge"] = Base64Encode(*resealed);
      auto updated = db.Exec("UPDATE enrollment_profiles SET settings = $1 WHERE id = $2",
                             {settings.dump(), id});
      if (!updated.ok()) return updated.status();
      tick();
    }
    return WriteCheck(db, to, now);
  });
  if (!s.ok()) return s;
  return done;
}

Result<RotationResult> RotateMasterKey(store::Store& store, const std::string& data_dir,
                                       std::string_view env_value, const std::string& new_key_file,
                                       const RotationProgress& progress) {
  auto current = OpenMasterKey(store, data_dir, env_value);
  if (!current.ok()) return current.status();
  bool from_env = !env_value.empty();
  if (from_env && new_key_file.empty()) {
    return Status::InvalidArgument(
        "the master key comes from MDMGW_MASTER_KEY: pass --new-key-file with the new key (base64 "
        "of 32 bytes, mode 0600), then set MDMGW_MASTER_KEY to it",
        "new_key_required");
  }
  Secret<std::string> new_text;
  if (!new_key_file.empty()) {
    struct stat st {};
    if (::stat(new_key_file.c_str(), &st) != 0) {
      return Status::NotFound("cannot read the new key file " + new_key_file);
    }
    if ((st.st_mode & 077) != 0) {
      return Status::PermissionDenied(new_key_file + " is readable by others; run: chmod 600 " +
                                      new_key_file);
    }
    auto text = ReadFile(new_key_file);
    if (!text.ok()) return text.status();
    new_text = Secret<std::string>(std::move(text).value());
  } else {
    new_text = Secret<std::string>(Base64Encode(RandomBytes(SecretBox::kKeySize)) + "\n");
  }
  auto next = SecretBox::FromBase64(new_text.Expose());
  if (!next.ok()) return next.status().WithContext("the new master key");
  auto check = ReadCheck(store.database());
  if (check.ok() && OpensCheck(*next, *check)) {
    return Status::InvalidArgument("the new master key is the current one", "same_key");
  }

  std::string key_path = data_dir + "/master.key";
  std::string next_path = key_path + ".next";
  if (!from_env) MDMGW_RETURN_IF_ERROR(WriteFileAtomic(next_path, new_text.Expose(), 0600));
  auto resealed =
      ResealAll(store.database(), current->box, *next, Clock::System().NowUnixSeconds(), progress);
  if (!resealed.ok()) {
    if (!from_env) std::remove(next_path.c_str());
    return resealed.status();
  }
  RotationResult result;
  result.resealed = *resealed;
  if (from_env) {
    result.key_origin = new_key_file;
    return result;
  }
  std::error_code ec;
  std::filesystem::rename(next_path, key_path, ec);
  if (ec) {
    // The store is re-sealed; the next start finishes the rename (SettleInterruptedRotation).
    return Status::Internal("the store was re-sealed but " + next_path + " could not replace " +
                            key_path + " (" + ec.message() + "); the next start will finish it");
  }
  result.key_origin = key_path;
  return result;
}

}  // namespace mdmgw::gateway
