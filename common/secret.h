// Secret<T>: a value that must never reach a log line, a metric label or an error message.
//
// It has no stream operator, no fmt formatter and no nlohmann to_json, so `log::Info("x", {{"k",
// s}})` or `std::cout << s` fails to compile. Reading the value takes an explicit Expose(). String
// secrets are wiped (OPENSSL_cleanse) when destroyed.
//
// Thread-safety: like T.
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <type_traits>
#include <utility>

namespace mdmgw {

template <typename T>
class Secret {
 public:
  Secret() = default;
  explicit Secret(T value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {}
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
    }
    return *this;
  }
  ~Secret() { Wipe(); }

  // The only way to read the value; grep for Expose() to audit every use.
  const T& Expose() const { return value_; }

 private:
  void Wipe() {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!value_.empty()) {
        OPENSSL_cleanse(value_.data(), value_.size());
      }
    }
  }
  T value_{};
};

}  // namespace mdmgw
