// plist_guard: parsing property lists from untrusted bytes (device check-ins) with limits.
//
// libplist 2.2 trusts its input: its binary parser does pointer arithmetic on the trailer's
// offset-table position and the object offsets before checking them, and both parsers recurse
// without a depth cap. So untrusted bytes are checked here first — the binary trailer, every
// offset and reference reachable from the top object, nesting depth and node count for both
// forms — and only then handed to libplist. The structural walk is written by hand because no
// Debian library validates bplist00 without parsing it the unsafe way.
//
// Thread-safety: free functions on immutable input.
#pragma once

#include <plist/plist.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mdmgw {

struct PlistLimits {
  size_t max_bytes = 256 << 10;  // Default: 256 KiB (the check-in body limit).
  int max_depth = 32;            // Default: containers nested at most this deep.
  size_t max_nodes = 50000;      // Default: objects visited (shared references count each time).
};

struct PlistDeleter {
  void operator()(plist_t p) const {
    if (p != nullptr) plist_free(p);
  }
};
using PlistPtr = std::unique_ptr<void, PlistDeleter>;

// True when |bytes| starts like a binary plist ("bplist00").
bool IsBinaryPlist(std::string_view bytes);

// Structural checks without parsing. InvalidArgument (reason "bad_plist") saying what is wrong,
// TooLarge (reason "plist_too_large") over max_bytes / max_nodes / max_depth.
Status CheckBinaryPlist(std::string_view bytes, const PlistLimits& limits);
Status CheckXmlPlist(std::string_view bytes, const PlistLimits& limits);

// Checks (as above) then parses an XML or binary plist. The root is returned whatever its type.
Result<PlistPtr> ParseUntrustedPlist(std::string_view bytes, const PlistLimits& limits);

// The value of a PLIST_STRING node; "" for any other node. Never plist_get_string_val: libplist
// 2.2 asserts (aborts the process) on a string holding a NUL byte, which a binary plist or an XML
// "&#0;" can carry (found by tests/fuzz/checkin_plist). Such a string reads as "" (absent): no
// Apple identifier holds a NUL, and a truncated one could name another device.
std::string PlistStringValue(plist_t node);

// Typed reads from a dictionary; absent or wrongly typed keys read as empty / nullopt.
std::string PlistString(plist_t dict, const char* key);
// <data> bytes; nullopt when absent or not data.
std::optional<std::string> PlistData(plist_t dict, const char* key);
std::optional<bool> PlistBool(plist_t dict, const char* key);

}  // namespace mdmgw
