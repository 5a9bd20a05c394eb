// ChangeFeed: hears what other gateway instances on the same database changed in the state each
// instance keeps in memory (the push certificate's TLS identity, the routing table, built
// enrollment profiles), so an admin's change on one instance is used by all without a restart.
//
// The Store sends a notice with every such write (PostgreSQL NOTIFY, inside the write's
// transaction, so it is heard only once the change is committed); the feed listens on its own
// connection and calls the handlers registered for the topic. Notices from this instance are
// skipped (its services already know). After the listening connection was lost and made again,
// every handler runs, since notices may have been missed meanwhile. On SQLite no other process
// shares the database, and the feed does nothing.
//
// Thread-safety: On() before Start(); handlers run on the feed's thread, one at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "store/store.h"

namespace mdmgw::store {

class ChangeFeed {
 public:
  // |registry| (optional) gets mdmgw_store_changes_heard_total{topic}.
  explicit ChangeFeed(Store& store, metrics::Registry* registry = nullptr);
  ~ChangeFeed();

  void On(std::string_view topic, std::function<void()> handler);
  // Starts listening (PostgreSQL); Unavailable when the listening connection cannot be made.
  Status Start();
  void Stop();

 private:
  void Heard(const std::string& payload);
  void HeardAll();

  Store& store_;
  metrics::Family<metrics::Counter>* heard_ = nullptr;
  std::map<std::string, std::vector<std::function<void()>>, std::less<>> handlers_;
  std::unique_ptr<SqlDatabase::Subscription> subscription_;
};

}  // namespace mdmgw::store
