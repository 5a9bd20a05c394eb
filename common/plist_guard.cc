#include "common/plist_guard.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace mdmgw {
namespace {

Status Bad(std::string what) {
  return Status::InvalidArgument("malformed property list: " + what, "bad_plist");
}
Status Big(std::string what) {
  return Status::TooLarge("property list too large: " + what, "plist_too_large");
}

// Big-endian unsigned integer of |n| (1..8) bytes at |p|.
uint64_t ReadBE(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// The bplist00 walk. Objects live in [8, table_offset); every offset and reference is checked
// before it is followed.
class BinaryChecker {
 public:
  BinaryChecker(std::string_view bytes, const PlistLimits& limits)
      : data_(reinterpret_cast<const unsigned char*>(bytes.data())),
        size_(bytes.size()),
        limits_(limits) {}

  Status Run() {
    if (size_ < 8 + 32) return Bad("binary plist shorter than its header and trailer");
    const unsigned char* trailer = data_ + size_ - 32;
    offset_size_ = trailer[6];
    ref_size_ = trailer[7];
    num_objects_ = ReadBE(trailer + 8, 8);
    uint64_t top = ReadBE(trailer + 16, 8);
    table_offset_ = ReadBE(trailer + 24, 8);
    if (offset_size_ < 1 || offset_size_ > 8 || ref_size_ < 1 || ref_size_ > 8) {
      return Bad("binary plist trailer has invalid integer sizes");
    }
    if (num_objects_ == 0 || top >= num_objects_)
      return Bad("binary plist top object out of range");
    if (num_objects_ > limits_.max_nodes) return Big("more than the allowed number of objects");
    uint64_t end_of_objects = size_ - 32;
    if (table_offset_ < 9 || table_offset_ > end_of_objects) {
      return Bad("binary plist offset table outside the file");
    }
    // num_objects_ ≤ max_nodes keeps this product far from overflow.
    if (num_objects_ * offset_size_ > end_of_objects - table_offset_) {
      return Bad("binary plist offset table runs past the trailer");
    }
    struct Item {
      uint64_t ref;
      int depth;
    };
    std::vector<Item> stack{{top, 0}};
    size_t visited = 0;
    while (!stack.empty()) {
      Item it = stack.back();
      stack.pop_back();
      if (++visited > limits_.max_nodes) return Big("more than the allowed number of objects");
      uint64_t off = ReadBE(data_ + table_offset_ + it.ref * offset_size_, offset_size_);
      if (off < 8 || off >= table_offset_) return Bad("binary plist object offset out of range");
      uint64_t pos = off;
      unsigned char marker = data_[pos++];
      unsigned type = marker >> 4, info = marker & 0x0f;
      uint64_t payload = 0;  // bytes after the marker (and the length, when extended)
      bool container = false;
      uint64_t count = 0;
      switch (type) {
        case 0x0:
          if (info != 0x0 && info != 0x8 && info != 0x9 && info != 0xf) return Bad("bad marker");
          break;
        case 0x1:
          if (info > 4) return Bad("integer wider than 16 bytes");
          payload = uint64_t{1} << info;
          break;
        case 0x2:
          if (info != 2 && info != 3) return Bad("real of unsupported width");
          payload = uint64_t{1} << info;
          break;
        case 0x3:
          if (info != 3) return Bad("bad date marker");
          payload = 8;
          break;
        case 0x4:
        case 0x5:
        case 0x6: {
          MDMGW_RETURN_IF_ERROR(Length(info, &pos, &count));
          payload = type == 0x6 ? count * 2 : count;
          if (type == 0x6 && count > (uint64_t{1} << 62)) return Bad("string length overflow");
          break;
        }
        case 0x8:
          payload = uint64_t{info} + 1;
          break;
        case 0xa:
        case 0xc:
        case 0xd: {
          MDMGW_RETURN_IF_ERROR(Length(info, &pos, &count));
          if (count > limits_.max_nodes) return Big("container with too many entries");
          uint64_t refs = type == 0xd ? count * 2 : count;
          payload = refs * ref_size_;
          container = true;
          break;
        }
        default:
          return Bad("unknown object type");
      }
      if (pos > table_offset_ || payload > table_offset_ - pos) {
        return Bad("binary plist object runs past the object area");
      }
      if (!container) continue;
      if (it.depth + 1 > limits_.max_depth) return Big("nesting deeper than allowed");
      uint64_t refs = type == 0xd ? count * 2 : count;
      for (uint64_t i = 0; i < refs; ++i) {
        uint64_t child = ReadBE(data_ + pos + i * ref_size_, ref_size_);
        if (child >= num_objects_) return Bad("binary plist reference out of range");
        if (type == 0xd && i < count) {
          // Dictionary keys must be strings (libplist assumes it).
          uint64_t koff = ReadBE(data_ + table_offset_ + child * offset_size_, offset_size_);
          if (koff < 8 || koff >= table_offset_) return Bad("binary plist key offset out of range");
          unsigned kt = data_[koff] >> 4;
          if (kt != 0x5 && kt != 0x6) return Bad("dictionary key is not a string");
        }
        stack.push_back({child, it.depth + 1});
        if (stack.size() > limits_.max_nodes) return Big("more than the allowed number of objects");
      }
    }
    return Status::Ok();
  }

 private:
  // A container/string length: the low nibble, or (0xF) an integer object that follows.
  Status Length(unsigned info, uint64_t* pos, uint64_t* count) {
    if (info != 0xf) {
      *count = info;
      return Status::Ok();
    }
    if (*pos >= table_offset_) return Bad("length runs past the object area");
    unsigned char m = data_[(*pos)++];
    if ((m >> 4) != 0x1 || (m & 0x0f) > 3) return Bad("bad extended length");
    uint64_t n = uint64_t{1} << (m & 0x0f);
    if (n > table_offset_ - *pos) return Bad("length runs past the object area");
    *count = ReadBE(data_ + *pos, n);
    *pos += n;
    return Status::Ok();
  }

  const unsigned char* data_;
  uint64_t size_;
  const PlistLimits& limits_;
  uint64_t offset_size_ = 0, ref_size_ = 0, num_objects_ = 0, table_offset_ = 0;
};

}  // namespace

bool IsBinaryPlist(std::string_view bytes) { return bytes.substr(0, 8) == "bplist00"; }

Status CheckBinaryPlist(std::string_view bytes, const PlistLimits& limits) {
  if (bytes.size() > limits.max_bytes) return Big("more bytes than allowed");
  if (!IsBinaryPlist(bytes)) return Bad("not a binary plist");
  return BinaryChecker(bytes, limits).Run();
}

Status CheckXmlPlist(std::string_view bytes, const PlistLimits& limits) {
  if (bytes.size() > limits.max_bytes) return Big("more bytes than allowed");
  // Element nesting and count, from the tags alone. <plist> and a leaf element add two levels
  // beyond the containers, hence the +2.
  int depth = 0;
  size_t nodes = 0;
  size_t i = 0;
  bool saw_plist = false;
  while ((i = bytes.find('<', i)) != std::string_view::npos) {
    if (bytes.compare(i, 4, "<!--") == 0) {
      size_t end = bytes.find("-->", i + 4);
      if (end == std::string_view::npos) return Bad("unterminated comment");
      i = end + 3;
      continue;
    }
    size_t close = bytes.find('>', i);
    if (close == std::string_view::npos) return Bad("unterminated tag");
    std::string_view tag = bytes.substr(i, close - i + 1);
    i = close + 1;
    if (tag.size() >= 2 && (tag[1] == '?')) continue;
    if (tag.size() >= 2 && tag[1] == '!') {
      // DOCTYPE is fine; entity declarations are not (no expansion games in device input).
      if (tag.find("ENTITY") != std::string_view::npos || tag.find('[') != std::string_view::npos) {
        return Bad("DTD declarations are not accepted");
      }
      continue;
    }
    if (tag.size() >= 2 && tag[1] == '/') {
      if (--depth < 0) return Bad("unbalanced closing tag");
      continue;
    }
    if (tag.compare(0, 6, "<plist") == 0) saw_plist = true;
    if (++nodes > limits.max_nodes) return Big("more than the allowed number of elements");
    if (tag.size() >= 2 && tag[tag.size() - 2] == '/') continue;  // <true/>, <dict/>
    if (++depth > limits.max_depth + 2) return Big("nesting deeper than allowed");
  }
  if (!saw_plist) return Bad("no <plist> element");
  if (depth != 0) return Bad("unclosed element");
  return Status::Ok();
}

Result<PlistPtr> ParseUntrustedPlist(std::string_view bytes, const PlistLimits& limits) {
  plist_t root = nullptr;
  if (IsBinaryPlist(bytes)) {
    MDMGW_RETURN_IF_ERROR(CheckBinaryPlist(bytes, limits));
    plist_from_bin(bytes.data(), static_cast<uint32_t>(bytes.size()), &root);
  } else {
    MDMGW_RETURN_IF_ERROR(CheckXmlPlist(bytes, limits));
    plist_from_xml(bytes.data(), static_cast<uint32_t>(bytes.size()), &root);
  }
  // libplist 2.2 returns nothing: a NULL root is its parse error.
  if (root == nullptr) return Bad("not a property list");
  return PlistPtr(root);
}

std::string PlistStringValue(plist_t node) {
  if (node == nullptr || plist_get_node_type(node) != PLIST_STRING) return "";
  uint64_t len = 0;
  const char* s = plist_get_string_ptr(node, &len);
  if (s == nullptr) return "";
  std::string out(s, static_cast<size_t>(len));
  if (out.find('\0') != std::string::npos) return "";
  return out;
}

std::string PlistString(plist_t dict, const char* key) {
  if (dict == nullptr || plist_get_node_type(dict) != PLIST_DICT) return "";
  return PlistStringValue(plist_dict_get_item(dict, key));
}

std::optional<std::string> PlistData(plist_t dict, const char* key) {
  if (dict == nullptr || plist_get_node_type(dict) != PLIST_DICT) return std::nullopt;
  plist_t v = plist_dict_get_item(dict, key);
  if (v == nullptr || plist_get_node_type(v) != PLIST_DATA) return std::nullopt;
  char* d = nullptr;
  uint64_t len = 0;
  plist_get_data_val(v, &d, &len);
  std::string out(d != nullptr ? d : "", d != nullptr ? len : 0);
  free(d);
  return out;
}

std::optional<bool> PlistBool(plist_t dict, const char* key) {
  if (dict == nullptr || plist_get_node_type(dict) != PLIST_DICT) return std::nullopt;
  plist_t v = plist_dict_get_item(dict, key);
  if (v == nullptr || plist_get_node_type(v) != PLIST_BOOLEAN) return std::nullopt;
  uint8_t b = 0;
  plist_get_bool_val(v, &b);
  return b != 0;
}

}  // namespace mdmgw
