// DepProfileService: DEP profiles defined at Apple through the gateway, per DEP server.
// Define builds the profile (dep/dep_profile: Apple's limits checked first), POSTs it to Apple,
// keeps Apple's profile UUID and what was sent, optionally makes it the server's default (the
// profile the auto-assigner gives new devices), and assigns any serials named at define time.
// A profile's enrollment URL defaults to the gateway's own DEP enrollment endpoint for it:
// <public_url>/enroll/dep/<name>.
// Apple's profiles cannot be changed, only replaced: redefining a profile makes a new one at Apple,
// and the devices that had the previous one are moved to it (an admin's edit reaches them).
//
// Thread-safety: thread-safe.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "dep/dep_assigner.h"
#include "dep/dep_clients.h"
#include "store/dep_store.h"

namespace mdmgw::dep {

struct DepProfileDefineResult {
  store::DepProfileRecord record;
  bool created = false;
  bool is_default = false;
  std::vector<std::string> warnings;
  std::optional<DepAssignOutcome> assigned;    // when the request named devices
  std::optional<DepAssignOutcome> reassigned;  // devices moved from the previous definition
};

class DepProfileService {
 public:
  // |public_url|: how devices reach the gateway (https://host[:port], no trailing slash).
  // |anchor_certs|: base64 DER certificates put into profiles that give none (see
  // DepProfileDefaults).
  DepProfileService(store::DepStore& store, DepClients& clients, DepAssigner& assigner,
                    std::string public_url, std::vector<std::string> anchor_certs,
                    Clock& clock = Clock::System());

  // |request|: Apple's profile keys, plus the gateway's "default" (bool). Names: 1–64 of
  // [A-Za-z0-9._-].
  // |enrollment_profile|: the gateway enrollment profile the request was made from ("" = none).
  Result<DepProfileDefineResult> Define(const std::string& server, const std::string& name,
                                        const nlohmann::json& request,
                                        const std::string& enrollment_profile = "");
  Result<std::vector<store::DepProfileRecord>> List(const std::string& server);
  Result<store::DepProfileRecord> Get(const std::string& server, const std::string& name);
  // Apple's own copy (GET /profile?profile_uuid=).
  Result<nlohmann::json> Remote(const std::string& server, const std::string& name);
  // The server's default profile name ("" when none or no such server).
  std::string DefaultProfile(const std::string& server);
  // The enrollment URL a profile named |name| gets by default.
  std::string EnrollmentUrl(const std::string& name) const;
  // Set once the listening port is known (a configured port 0 picks one at start).
  void SetPublicUrl(std::string public_url);

 private:
  store::DepStore& store_;
  DepClients& clients_;
  DepAssigner& assigner_;
  mutable std::mutex mu_;
  std::string public_url_;  // GUARDED_BY(mu_)
  std::vector<std::string> anchor_certs_;
  Clock& clock_;
};

}  // namespace mdmgw::dep
