#include "dep/dep_error.h"

namespace mdmgw::dep {
namespace {
bool Has(std::string_view body, std::string_view code) {
  return body.find(code) != std::string_view::npos;
}
}  // namespace

DepErrorKind ClassifyDepError(int status, std::string_view body) {
  if (status >= 200 && status < 300) return DepErrorKind::kNone;
  if (status == 429) return DepErrorKind::kThrottled;
  if (status >= 500) return DepErrorKind::kServerError;
  if (status == 401) return DepErrorKind::kSessionExpired;
  if (status == 403) {
    if (Has(body, "T_C_NOT_SIGNED")) return DepErrorKind::kTermsNotSigned;
    if (Has(body, "ACCESS_DENIED")) return DepErrorKind::kAccessDenied;
    if (Has(body, "FORBIDDEN")) return DepErrorKind::kSessionExpired;
    return DepErrorKind::kAccessDenied;
  }
  if (status == 400) {
    if (Has(body, "EXHAUSTED_CURSOR")) return DepErrorKind::kCursorExhausted;
    if (Has(body, "INVALID_CURSOR") || Has(body, "EXPIRED_CURSOR"))
      return DepErrorKind::kCursorReset;
    if (Has(body, "CURSOR_REQUIRED")) return DepErrorKind::kCursorRequired;
  }
  return DepErrorKind::kBadRequest;
}

}  // namespace mdmgw::dep
