#include "dep/dep_clients.h"

#include <algorithm>

namespace mdmgw::dep {

DepClients::DepClients(store::DepStore& store, DepServerService& servers, net::H1Client& http,
                       Clock& clock)
    : store_(store), servers_(servers), http_(http), clock_(clock) {}

Result<DepClientLease> DepClients::For(const std::string& server) {
  auto record = store_.GetDepServer(server);
  if (!record.ok()) return record.status();
  auto token = servers_.LoadToken(server);
  if (!token.ok()) {
    return Status::FailedPrecondition(
        "DEP server \"" + server + "\" has no token yet: upload the .p7m first", "no_token");
  }
  std::shared_ptr<DepClient> client;
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[server];
    if (e.client && e.consumer_key == token->consumer_key && e.base_url == record->base_url) {
      return DepClientLease{e.client, e.page_limit};
    }
    e.client = std::make_shared<DepClient>(http_, record->base_url, CredentialsOf(*token), clock_);
    e.client->set_timeout(timeout_);
    e.consumer_key = token->consumer_key;
    e.base_url = record->base_url;
    e.page_limit = 1000;
    client = e.client;
  }
  // Outside the lock: /account is a round trip to Apple. Apple documents default 100, max 1000,
  // and real servers advertise 1000/5000: ask for the larger of the default and 1000, within the
  // maximum (fewer round trips; every page is one transaction either way).
  int limit = 1000;
  auto account = client->Account();
  if (account.ok()) {
    limit = std::clamp(std::max(account->fetch_limit_default, 1000), 1,
                       std::max(1, account->fetch_limit_maximum));
  }
  std::lock_guard lock(mu_);
  Entry& e = entries_[server];
  if (e.client == client) e.page_limit = limit;
  return DepClientLease{client, limit};
}

}  // namespace mdmgw::dep
