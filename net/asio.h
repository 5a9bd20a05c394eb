// The one header that brings in Boost.Asio, Asio SSL and Beast for net/'s implementation files.
//
// Boost 1.74's Asio uses std::exchange in awaitable.hpp without including <utility>, which GCC 12
// in C++20 mode does not pull in transitively: <utility> must come first (DESIGN §3 build notes).
// Only net/*.cc (and the few classes owning sockets) include this; it is the precompiled header.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace mdmgw::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;
using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
}  // namespace mdmgw::net
