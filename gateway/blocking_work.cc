#include "gateway/blocking_work.h"

namespace mdmgw::gateway {

BlockingWork::BlockingWork(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      std::unique_lock lock(mu_);
      while (true) {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left: every request was answered
        auto work = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        work();
        lock.lock();
      }
    });
  }
}

BlockingWork::~BlockingWork() { Stop(); }

void BlockingWork::Post(std::function<void()> work, std::function<void()> on_stopped) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(work));
      cv_.notify_one();
      return;
    }
  }
  if (on_stopped) on_stopped();
}

void BlockingWork::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

}  // namespace mdmgw::gateway
