#include "net/io_loop.h"

namespace mdmgw::net {
namespace {
thread_local boost::asio::io_context* current_loop = nullptr;
}  // namespace

boost::asio::io_context* CurrentIoLoop() { return current_loop; }

ScopedIoLoop::ScopedIoLoop(boost::asio::io_context* loop) : previous_(current_loop) {
  current_loop = loop;
}

ScopedIoLoop::~ScopedIoLoop() { current_loop = previous_; }

}  // namespace mdmgw::net
