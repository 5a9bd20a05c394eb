// AuditStore: the admin audit log, one row per admin change (who, what, when, how it ended).
// Append-only from the gateway's side; read newest first, paged by id.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace mdmgw::store {

struct AuditRecord {
  int64_t id = 0;        // assigned by the store, ascending
  int64_t at = 0;        // unix seconds
  std::string actor_id;  // API key id ("k_..."), or "cli" for a command run on the server
  std::string actor;     // API key name, or the local user for "cli"
  std::string remote;    // client address, "" for the CLI
  std::string method;    // HTTP method, or "CLI"
  std::string path;      // request path (no query), or the command line's verb
  std::string route;     // route pattern, e.g. "/api/v1/dep/servers/{name}"
  int status = 0;        // HTTP status of the answer
  std::string error;     // error code of a failed answer, "" on success
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual Status RecordAudit(const AuditRecord& record) = 0;
  // Up to |limit| records with id < |before_id| (0 = from the newest), newest first.
  virtual Result<std::vector<AuditRecord>> ListAudit(int64_t before_id, int limit) = 0;
};

}  // namespace mdmgw::store
