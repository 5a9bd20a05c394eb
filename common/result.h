// Status and Result<T>: the one error type at module boundaries.
//
// A Status is OK or carries a StatusCode (the kind of failure), a message for humans and an
// optional snake_case `reason` for API clients ("key_mismatch"). Result<T> holds a value or a
// non-OK Status, shaped like std::expected<T, Status> (C++20 has no std::expected). No exceptions
// cross modules: third-party throws are caught at the edge and turned into a Status.
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mdmgw {

// The kind of failure. Handlers map each kind to one HTTP status in one table
// (gateway/http_errors).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed or out of range (HTTP 400)
  kUnauthenticated,     // no or bad credentials (HTTP 401)
  kPermissionDenied,    // credentials fine, action not allowed (HTTP 403)
  kNotFound,            // the named thing does not exist (HTTP 404)
  kAlreadyExists,       // a create met an existing thing (HTTP 409)
  kFailedPrecondition,  // state forbids the action, e.g. topic change without force (HTTP 409)
  kTooLarge,            // input over a configured limit (HTTP 413)
  kUnavailable,         // a dependency is down or overloaded; retrying may help (HTTP 503)
  kTimeout,             // a deadline passed (HTTP 504)
  kDataLoss,            // stored or received data is corrupt or fails authentication (HTTP 500)
  kInternal,            // a bug or an unexpected library failure (HTTP 500)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // Success.
  Status() = default;
  static Status Ok() { return Status(); }

  static Status InvalidArgument(std::string msg, std::string reason = "") {
    return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(reason));
  }
  static Status Unauthenticated(std::string msg, std::string reason = "") {
    return Status(StatusCode::kUnauthenticated, std::move(msg), std::move(reason));
  }
  static Status PermissionDenied(std::string msg, std::string reason = "") {
    return Status(StatusCode::kPermissionDenied, std::move(msg), std::move(reason));
  }
  static Status NotFound(std::string msg, std::string reason = "") {
    return Status(StatusCode::kNotFound, std::move(msg), std::move(reason));
  }
  static Status AlreadyExists(std::string msg, std::string reason = "") {
    return Status(StatusCode::kAlreadyExists, std::move(msg), std::move(reason));
  }
  static Status FailedPrecondition(std::string msg, std::string reason = "") {
    return Status(StatusCode::kFailedPrecondition, std::move(msg), std::move(reason));
  }
  static Status TooLarge(std::string msg, std::string reason = "") {
    return Status(StatusCode::kTooLarge, std::move(msg), std::move(reason));
  }
  static Status Unavailable(std::string msg, std::string reason = "") {
    return Status(StatusCode::kUnavailable, std::move(msg), std::move(reason));
  }
  static Status Timeout(std::string msg, std::string reason = "") {
    return Status(StatusCode::kTimeout, std::move(msg), std::move(reason));
  }
  static Status DataLoss(std::string msg, std::string reason = "") {
    return Status(StatusCode::kDataLoss, std::move(msg), std::move(reason));
  }
  static Status Internal(std::string msg, std::string reason = "") {
    return Status(StatusCode::kInternal, std::move(msg), std::move(reason));
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // A stable snake_case code for API clients; defaults to the code's name ("not_found").
  std::string reason() const;
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }

  // Prefixes the message with context: "opening store: <message>".
  Status WithContext(std::string_view context) const;
  // "not_found: no such key".
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg, std::string reason)
      : code_(code), message_(std::move(msg)), reason_(std::move(reason)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
};

// A value or a non-OK Status. Accessing value() of an error Result is a bug (asserts in debug).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(data_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace mdmgw

// Returns early from the enclosing function when |expr| (a Status) is not OK.
#define MDMGW_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::mdmgw::Status _mdmgw_status = (expr); \
    if (!_mdmgw_status.ok()) {              \
      return _mdmgw_status;                 \
    }                                       \
  } while (0)
