#include "apns/push_service.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "common/log.h"

namespace mdmgw::apns {
namespace {

// Shared by the callbacks of one Push() call; the last one to finish answers.
struct Batch {
  std::vector<EnrollmentPushResult> results;
  std::atomic<size_t> remaining{0};
  std::function<void(std::vector<EnrollmentPushResult>)> done;
  void FinishOne() {
    if (remaining.fetch_sub(1) == 1) done(std::move(results));
  }
};

std::string MessageFor(const PushResult& r) {
  if (r.status != 0) {
    return "APNs answered " + std::to_string(r.status) + (r.reason.empty() ? "" : " " + r.reason) +
           (r.attempts > 1 ? " after " + std::to_string(r.attempts) + " attempts" : "");
  }
  if (r.reason == "queue_full") return "the push queue is full; try again shortly";
  if (r.reason == "no_certificate") return "no APNs push certificate is configured";
  if (r.reason == "certificate_rejected")
    return "APNs rejected the push certificate; upload a valid one";
  if (r.reason == "bad_token") return "the stored device token is not valid hex";
  return "APNs could not be reached (" + r.reason + ")";
}

}  // namespace

PushService::PushService(store::EnrollmentStore& enrollments, ApnsClient& client)
    : enrollments_(enrollments), client_(client) {}

void PushService::Push(std::vector<std::string> ids,
                       std::function<void(std::vector<EnrollmentPushResult>)> done) {
  std::vector<std::string> unique;
  unique.reserve(ids.size());
  std::unordered_set<std::string> seen;
  for (auto& id : ids) {
    if (seen.insert(id).second) unique.push_back(std::move(id));
  }
  auto batch = std::make_shared<Batch>();
  batch->done = std::move(done);
  batch->results.resize(unique.size());
  for (size_t i = 0; i < unique.size(); ++i) batch->results[i].id = unique[i];

  auto records = enrollments_.GetEnrollments(unique);
  if (!records.ok()) {
    for (auto& r : batch->results) {
      r.error_code = "store_unavailable";
      r.message = records.status().message();
      r.outcome = PushOutcome::kRetry;
    }
    return batch->done(std::move(batch->results));
  }
  std::unordered_map<std::string, store::EnrollmentRecord*> by_id;
  for (auto& rec : *records) by_id[rec.id] = &rec;

  std::vector<std::pair<PushRequest, PushCallback>> pushes;
  pushes.reserve(unique.size());
  batch->remaining = unique.size() + 1;  // +1: held until every push is handed over
  for (size_t i = 0; i < unique.size(); ++i) {
    EnrollmentPushResult& out = batch->results[i];
    auto it = by_id.find(unique[i]);
    if (it == by_id.end()) {
      out.error_code = "unknown_enrollment";
      out.message = "no enrollment with this id has checked in";
      out.outcome = PushOutcome::kRequestRejected;
      batch->FinishOne();
      continue;
    }
    const store::EnrollmentRecord& rec = *it->second;
    if (rec.push_token_hex.empty() || rec.push_magic.empty()) {
      out.error_code = "no_push_token";
      out.message = "the enrollment has not sent a TokenUpdate yet";
      out.outcome = PushOutcome::kRequestRejected;
      batch->FinishOne();
      continue;
    }
    if (rec.status == "checked_out") {
      // The device removed its MDM profile (CheckOut): a push would wake nothing.
      out.error_code = "checked_out";
      out.message = "the device checked out (its enrollment profile was removed)";
      out.outcome = PushOutcome::kRequestRejected;
      batch->FinishOne();
      continue;
    }
    if (rec.token_invalid_at_ms) {
      out.error_code = "token_unregistered";
      out.message = "APNs reported this token unregistered; waiting for a new TokenUpdate";
      out.outcome = PushOutcome::kTokenUnregistered;
      batch->FinishOne();
      continue;
    }
    PushRequest req;
    req.token_hex = rec.push_token_hex;
    req.push_magic = rec.push_magic;
    req.topic = rec.topic;
    std::string id = rec.id;
    pushes.emplace_back(std::move(req), [this, batch, i, id](PushResult r) {
      EnrollmentPushResult& out = batch->results[i];
      out.apns_id = r.apns_id;
      out.outcome = r.outcome;
      if (r.outcome == PushOutcome::kDelivered) {
        out.delivered = true;
      } else {
        out.error_code = r.reason.empty() ? std::string(PushOutcomeName(r.outcome)) : r.reason;
        out.message = MessageFor(r);
        if (r.outcome == PushOutcome::kTokenUnregistered && r.timestamp_ms > 0) {
          auto marked = enrollments_.MarkPushTokenInvalid(id, r.timestamp_ms);
          if (!marked.ok()) {
            log::Warn("apns: could not record an unregistered token",
                      {{"enrollment_id", id}, {"error", marked.status().ToString()}});
          } else if (*marked) {
            log::Info("apns: token unregistered; pushes wait for the next TokenUpdate",
                      {{"enrollment_id", id}});
          }
        }
      }
      batch->FinishOne();
    });
  }
  // Handed over in slices: the client's queue holds each push once, and no second copy of a large
  // batch sits in a posted task meanwhile.
  constexpr size_t kSlice = 1000;
  for (size_t start = 0; start < pushes.size(); start += kSlice) {
    size_t end = std::min(pushes.size(), start + kSlice);
    std::vector<std::pair<PushRequest, PushCallback>> slice(
        std::make_move_iterator(pushes.begin() + static_cast<std::ptrdiff_t>(start)),
        std::make_move_iterator(pushes.begin() + static_cast<std::ptrdiff_t>(end)));
    client_.PushMany(std::move(slice));
  }
  batch->FinishOne();
}

}  // namespace mdmgw::apns
