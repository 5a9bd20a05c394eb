// BlockingWork: a few threads for admin requests that wait on Apple (DEP profile define, assign,
// remove, disown, device details), so a slow answer from Apple never holds one of the server's
// I/O threads. Work queued after Stop() is run inline by the caller's |on_stopped| instead.
//
// Thread-safety: thread-safe. Stop() before the server is destroyed (net::Respond's contract):
// it finishes the running work and runs what is queued, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mdmgw::gateway {

class BlockingWork {
 public:
  explicit BlockingWork(int threads = 2);
  ~BlockingWork();
  BlockingWork(const BlockingWork&) = delete;
  BlockingWork& operator=(const BlockingWork&) = delete;

  // Runs |work| on a pool thread; after Stop(), runs |on_stopped| on this thread instead.
  void Post(std::function<void()> work, std::function<void()> on_stopped);
  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace mdmgw::gateway
