// The event loop a thread runs. A net::Server I/O thread marks itself with the io_context it runs,
// so work started from a request handler can stay on that loop (H1ClientOptions::use_caller_loop)
// instead of hopping to another thread and back: on the check-in path those two cross-thread
// wake-ups per request cost more than the forward itself.
#pragma once

namespace boost::asio {
class io_context;
}

namespace mdmgw::net {

// The loop the calling thread runs (set by ScopedIoLoop), or null.
boost::asio::io_context* CurrentIoLoop();

// Marks the calling thread as running |loop| for its lifetime; restores the previous mark.
class ScopedIoLoop {
 public:
  explicit ScopedIoLoop(boost::asio::io_context* loop);
  ~ScopedIoLoop();
  ScopedIoLoop(const ScopedIoLoop&) = delete;
  ScopedIoLoop& operator=(const ScopedIoLoop&) = delete;

 private:
  boost::asio::io_context* previous_;
};

}  // namespace mdmgw::net
