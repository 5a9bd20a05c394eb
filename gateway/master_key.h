// The master key (the key-encryption key of every sealed secret) beyond loading it: checking that
// it is the key the store was sealed with, and rotating it.
//
// The store keeps a check value (master_key_check: a known text sealed with the master key). A
// gateway started with the wrong MDMGW_MASTER_KEY or someone else's master.key is refused at
// start with a clear error, instead of failing later on the first secret it opens.
//
// Rotation re-seals every sealed value (push certificate key, CSR key, DEP keys and tokens, the
// enrollment CA key, SCEP challenges, unlock tokens) and the check value in one transaction. For a
// key file the new key is written to master.key.next first and renamed over master.key after the
// commit; a crash between the two is settled at the next start by the check value (it opens with
// exactly one of the two keys). Every gateway using the store must be stopped while it runs: one
// still running keeps the old key in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_box.h"
#include "store/store.h"

namespace mdmgw::gateway {

struct MasterKey {
  SecretBox box;
  std::string origin;    // "environment" or the key file's path
  bool created = false;  // a new key file was written (first start)
};

// Loads the master key (MDMGW_MASTER_KEY when |env_value| is non-empty, else
// <data_dir>/master.key, created when missing), settles an interrupted rotation, and checks the
// key against the store (writing the check value on first use). FailedPrecondition when the key
// is not the one the store was sealed with.
Result<MasterKey> OpenMasterKey(store::Store& store, const std::string& data_dir,
                                std::string_view env_value);

struct RotationResult {
  int64_t resealed = 0;    // sealed values re-sealed (the check value not counted)
  std::string key_origin;  // where the new key is now
};

// Called now and then during a long re-seal: (values done so far).
using RotationProgress = std::function<void(int64_t)>;

// Re-seals every sealed value and the check value from |from| to |to| in one transaction; on any
// error nothing changes. DataLoss (naming the row) when a stored value does not open with |from|.
Result<int64_t> ResealAll(store::SqlDatabase& db, const SecretBox& from, const SecretBox& to,
                          int64_t now, const RotationProgress& progress = nullptr);

// The rotate command. The current key is opened and checked as OpenMasterKey does. The new key is
// read from |new_key_file| (base64 of 32 bytes, mode 0600) when given, else generated. With
// MDMGW_MASTER_KEY in use, |new_key_file| is required and nothing is written to the data dir (the
// operator sets the variable to the new key afterwards).
Result<RotationResult> RotateMasterKey(store::Store& store, const std::string& data_dir,
                                       std::string_view env_value, const std::string& new_key_file,
                                       const RotationProgress& progress = nullptr);

// "table.column" for every sealed column ResealAll covers (a test checks the schema has no other).
const std::vector<std::string>& SealedColumns();

}  // namespace mdmgw::gateway
