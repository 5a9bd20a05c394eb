// dep: the ADE server-token exchange, OAuth1 session, Device Assignment API client, syncer and
// assigner (issue 4). This file: what an error answer from Apple's DEP API means (PROTOCOLS.md §2).
// Bodies come bare, JSON-quoted or as {"code": ...}, so they are matched by substring.
#pragma once

#include <string_view>

namespace mdmgw::dep {

enum class DepErrorKind {
  kNone,             // 2xx
  kCursorExhausted,  // 400 EXHAUSTED_CURSOR: switch from fetch to sync with the same cursor
  kCursorReset,      // 400 INVALID_CURSOR / EXPIRED_CURSOR: clear the cursor, fetch from scratch
  kCursorRequired,   // 400 CURSOR_REQUIRED: sync called without a cursor
  kTermsNotSigned,   // 403 T_C_NOT_SIGNED: the admin must accept new terms in ABM; do not retry
  kAccessDenied,     // 403 ACCESS_DENIED: the token lost access; do not retry
  kSessionExpired,   // 401, or 403 FORBIDDEN: re-run /session once and replay
  kThrottled,        // 429: honour Retry-After, else back off
  kServerError,      // 5xx: retry with backoff
  kBadRequest,       // any other 4xx
};

DepErrorKind ClassifyDepError(int status, std::string_view body);

}  // namespace mdmgw::dep
