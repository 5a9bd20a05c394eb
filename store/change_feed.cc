#include "store/change_feed.h"

#include "common/log.h"

namespace mdmgw::store {

ChangeFeed::ChangeFeed(Store& store, metrics::Registry* registry) : store_(store) {
  if (registry != nullptr) {
    heard_ = &registry->AddCounter("mdmgw_store_changes_heard_total",
                                   "Changes made by other gateway instances and acted on here",
                                   {"topic"});
  }
}

ChangeFeed::~ChangeFeed() { Stop(); }

void ChangeFeed::On(std::string_view topic, std::function<void()> handler) {
  handlers_[std::string(topic)].push_back(std::move(handler));
}

Status ChangeFeed::Start() {
  auto sub = store_.database().Listen(
      std::string(Store::kChangeChannel), [this](const std::string& p) { Heard(p); },
      [this] { HeardAll(); });
  if (!sub.ok()) return sub.status().WithContext("listening for other instances' changes");
  subscription_ = std::move(sub).value();
  return Status::Ok();
}

void ChangeFeed::Stop() { subscription_.reset(); }

void ChangeFeed::Heard(const std::string& payload) {
  size_t space = payload.find(' ');
  std::string topic = payload.substr(0, space);
  std::string from = space == std::string::npos ? "" : payload.substr(space + 1);
  if (from == store_.instance_id()) return;
  auto it = handlers_.find(topic);
  if (it == handlers_.end()) return;
  if (heard_ != nullptr) heard_->WithLabels({topic}).Inc();
  log::Info("store: another instance changed shared state; reloading",
            {{"topic", topic}, {"instance", from}});
  for (auto& handler : it->second) handler();
}

void ChangeFeed::HeardAll() {
  for (auto& [topic, handlers] : handlers_) {
    if (heard_ != nullptr) heard_->WithLabels({topic}).Inc();
    for (auto& handler : handlers) handler();
  }
}

}  // namespace mdmgw::store
