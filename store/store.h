// store: persistent state behind narrow role interfaces (DESIGN §6), on SQLite (default) or
// PostgreSQL. Store composes the roles; each service receives only the role it needs.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/api_key_store.h"
#include "store/audit_store.h"
#include "store/dep_store.h"
#include "store/enrollment_store.h"
#include "store/lease_store.h"
#include "store/profile_store.h"
#include "store/push_cert_store.h"
#include "store/report_store.h"
#include "store/sql_database.h"

namespace mdmgw::store {

struct StoreOptions {
  int max_connections = 8;  // PostgreSQL connections per instance ([store] max_connections)
  std::chrono::milliseconds acquire_timeout{5000};  // waiting for a free connection
};

class Store : public ApiKeyStore,
              public AuditStore,
              public LeaseStore,
              public PushCertStore,
              public EnrollmentStore,
              public DepStore,
              public ProfileStore,
              public ReportStore {
 public:
  // Opens "sqlite:PATH" (PATH may be ":memory:") or "postgres://..." and applies pending
  // migrations.
  static Result<std::unique_ptr<Store>> Open(const std::string& url,
                                             const StoreOptions& options = {});

  explicit Store(std::unique_ptr<SqlDatabase> db);

  // This process among the gateway instances sharing the database: "<host>:<pid>:<random>". It
  // holds leases and signs the change notices this instance sends.
  const std::string& instance_id() const { return instance_id_; }
  // The channel change notices travel on; payload "<topic> <instance id>" (Notify/Listen).
  static constexpr std::string_view kChangeChannel = "mdmgw_changes";
  // The topics: what another instance must read again when it hears one.
  static constexpr std::string_view kPushCertTopic = "push_cert";
  static constexpr std::string_view kRoutingTopic = "routing";
  static constexpr std::string_view kEnrollmentProfilesTopic = "enrollment_profiles";

  // Readiness: a round trip to the database; after a write failed for want of storage (disk full,
  // read-only), also a probe write that needs new pages, so readiness turns true again only once
  // writes work (an instance out of the load balancer gets no other writes to tell it so).
  Status Ping();
  Result<int> SchemaVersion() { return db_->SchemaVersion(); }
  std::string_view backend() const { return db_->backend(); }
  SqlDatabase& database() { return *db_; }

  ApiKeyStore& api_keys() { return *this; }
  AuditStore& audit() { return *this; }
  LeaseStore& leases() { return *this; }
  PushCertStore& push_certs() { return *this; }
  EnrollmentStore& enrollments() { return *this; }
  DepStore& dep() { return *this; }
  ProfileStore& profiles() { return *this; }
  ReportStore& reports() { return *this; }

  // ApiKeyStore
  Status CreateApiKey(const ApiKeyRecord& record) override;
  Result<ApiKeyRecord> FindApiKeyByHash(const std::string& key_hash) override;
  Result<std::vector<ApiKeyRecord>> ListApiKeys() override;
  Status RevokeApiKey(const std::string& name_or_id, int64_t now) override;
  Status TouchApiKey(const std::string& id, int64_t now) override;

  // AuditStore
  Status RecordAudit(const AuditRecord& record) override;
  Result<std::vector<AuditRecord>> ListAudit(int64_t before_id, int limit) override;

  // LeaseStore
  Result<LeaseRecord> AcquireLease(const std::string& name, const std::string& holder,
                                   int64_t ttl_ms) override;
  Status RenewLease(const std::string& name, const std::string& holder, int64_t token,
                    int64_t ttl_ms) override;
  Status ReleaseLease(const std::string& name, const std::string& holder, int64_t token) override;
  Result<int64_t> ForfeitLeases(const std::string& holder) override;
  Result<LeaseRecord> GetLease(const std::string& name) override;
  Result<std::vector<LeaseRecord>> ListLeases() override;
  Status CheckLeaseFence(const LeaseFence& fence) override;

  // PushCertStore
  Result<PushCertRecord> GetPushCert() override;
  Status PutPushCert(const PushCertRecord& record) override;
  Status DeletePushCert() override;
  Result<PendingCsrRecord> GetPendingCsr() override;
  Status PutPendingCsr(const PendingCsrRecord& record) override;
  Status DeletePendingCsr() override;

  // EnrollmentStore
  Status PutEnrollment(const EnrollmentRecord& record) override;
  Result<EnrollmentRecord> GetEnrollment(const std::string& id) override;
  Result<std::vector<EnrollmentRecord>> GetEnrollments(
      const std::vector<std::string>& ids) override;
  Result<std::vector<EnrollmentRecord>> ListEnrollments(const std::string& after,
                                                        int limit) override;
  Result<bool> MarkPushTokenInvalid(const std::string& id, int64_t apns_timestamp_ms) override;
  Status RecordAuthenticate(const EnrollmentRecord& details,
                            const DeviceIdentityRecord& identity) override;
  Status RecordTokenUpdate(const EnrollmentRecord& r) override;
  Status RecordCheckOut(const std::string& id, int64_t at) override;
  Status TouchEnrollment(const std::string& id, int64_t at) override;
  Result<DeviceIdentityRecord> GetDeviceIdentity(const std::string& device_id) override;
  Status PutDeviceIdentity(const DeviceIdentityRecord& identity) override;
  Result<std::vector<DeviceIdentityRecord>> ListExpiredIdentities(int64_t not_after_before,
                                                                  int limit) override;
  Result<int64_t> DeleteDevice(const std::string& device_id) override;
  Result<std::string> GetRouting() override;
  Status PutRouting(const std::string& document, int64_t at) override;

  // DepStore
  Status PutDepServer(const DepServerRecord& record) override;
  Result<DepServerRecord> GetDepServer(const std::string& name) override;
  Result<std::vector<DepServerRecord>> ListDepServers() override;
  Status DeleteDepServer(const std::string& name) override;
  Status ApplyDepPage(const std::string& server, const std::vector<DepDeviceRecord>& devices,
                      const std::string& cursor, const std::string& phase, int64_t at,
                      const LeaseFence* fence = nullptr) override;
  Result<DepSyncState> GetDepSyncState(const std::string& server) override;
  Status PutDepSyncResult(const std::string& server, int64_t at,
                          const std::string& result_json) override;
  Status SetDepNextSyncAt(const std::string& server, int64_t at) override;
  Result<std::vector<DepDeviceRecord>> ListDepDevices(const std::string& server,
                                                      const std::string& after, int limit,
                                                      const std::string& state = "") override;
  Result<int64_t> CountDepDevices(const std::string& server) override;
  Result<std::map<std::string, int64_t>> CountDepDevicesByState(const std::string& server) override;
  Status PutDepProfile(const DepProfileRecord& record) override;
  Result<DepProfileRecord> GetDepProfile(const std::string& server,
                                         const std::string& name) override;
  Result<std::vector<DepProfileRecord>> ListDepProfiles(const std::string& server) override;
  Status SetDepDefaultProfile(const std::string& server, const std::string& profile) override;
  Status RecordDepAssignments(const std::string& server,
                              const std::vector<DepAssignmentRecord>& records) override;
  Result<std::vector<std::string>> ListDepSerialsWithProfile(const std::string& server,
                                                             const std::string& profile_uuid,
                                                             const std::string& after,
                                                             int limit) override;
  Result<std::vector<std::string>> ListDepDevicesToAssign(const std::string& server, int64_t now,
                                                          const std::string& after,
                                                          int limit) override;

  // ProfileStore
  Status CreateEnrollmentProfile(const EnrollmentProfileRecord& record) override;
  Status UpdateEnrollmentProfile(const EnrollmentProfileRecord& record) override;
  Result<EnrollmentProfileRecord> GetEnrollmentProfile(const std::string& id_or_name) override;
  Result<std::vector<EnrollmentProfileRecord>> ListEnrollmentProfiles() override;
  Status DeleteEnrollmentProfile(const std::string& id) override;
  Status ReplaceProfileSerials(
      const std::string& profile_id,
      const std::vector<std::pair<std::string, std::string>>& serials_and_details) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListProfileSerials(
      const std::string& profile_id) override;
  Result<bool> HasProfileSerial(const std::string& profile_id, const std::string& serial) override;
  Status PutGroup(const GroupRecord& record) override;
  Result<GroupRecord> GetGroup(const std::string& name) override;
  Result<std::vector<GroupRecord>> ListGroups() override;
  Status DeleteGroup(const std::string& name) override;
  Result<bool> IsGroupMember(const std::vector<std::string>& groups, const std::string& kind,
                             const std::string& value) override;
  Result<EnrollmentCaRecord> GetEnrollmentCa() override;
  Status PutEnrollmentCaIfAbsent(const EnrollmentCaRecord& record) override;
  Status CreateEnrollmentLink(const EnrollmentLinkRecord& record) override;
  Result<EnrollmentLinkRecord> GetEnrollmentLink(const std::string& token_hash) override;
  Result<EnrollmentLinkRecord> UseEnrollmentLink(const std::string& token_hash,
                                                 int64_t now) override;
  Result<std::vector<EnrollmentLinkRecord>> ListEnrollmentLinks(const std::string& kind) override;
  Status RecordEnrollmentEvent(const EnrollmentEventRecord& record) override;
  Result<std::vector<EnrollmentEventRecord>> ListEnrollmentEvents(int64_t after,
                                                                  int limit) override;
  Result<PortalRecord> GetPortal() override;
  Status PutPortal(const PortalRecord& record) override;

  // ReportStore
  Result<std::vector<StalledEnrollment>> ListStalledEnrollments(int64_t served_before,
                                                                int limit) override;
  Result<std::vector<UnenrolledDepDevice>> ListUnenrolledDepDevices(int64_t assigned_before,
                                                                    int limit) override;
  Result<int64_t> CountAnonymousDownloads(int64_t served_before) override;

 private:
  // Sends the change notice |topic| to the other instances (inside the caller's transaction).
  Status NotifyChange(std::string_view topic);

  std::unique_ptr<SqlDatabase> db_;
  std::string instance_id_;
};

// A URL with any password replaced by "****", for logs and error messages.
std::string RedactStoreUrl(const std::string& url);

}  // namespace mdmgw::store
