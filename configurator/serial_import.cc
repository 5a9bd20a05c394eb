#include "configurator/serial_import.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace mdmgw::configurator {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The details field may be quoted ("a, b"), with "" for a quote inside.
bool Unquote(std::string* field) {
  if (field->empty() || field->front() != '"') return true;
  if (field->size() < 2 || field->back() != '"') return false;
  std::string out;
  for (size_t i = 1; i + 1 < field->size(); ++i) {
    if ((*field)[i] == '"') {
      if (i + 2 < field->size() && (*field)[i + 1] == '"') {
        out += '"';
        ++i;
        continue;
      }
      return false;
    }
    out += (*field)[i];
  }
  *field = out;
  return true;
}

}  // namespace

SerialImport ParseConfiguratorCsv(std::string_view csv) {
  SerialImport out;
  std::set<std::string> seen;
  int line_no = 0;
  size_t data_lines = 0;
  while (!csv.empty()) {
    size_t nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view() : csv.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF &&
        static_cast<unsigned char>(line[1]) == 0xBB && static_cast<unsigned char>(line[2]) == 0xBF)
      line.remove_prefix(3);  // a UTF-8 BOM from a spreadsheet export
    if (Trim(line).empty()) continue;
    size_t comma = line.find(',');
    std::string serial = Trim(line.substr(0, comma));
    std::string details = comma == std::string_view::npos ? "" : Trim(line.substr(comma + 1));
    std::string lower = serial;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (line_no == 1 && lower == "serial") {
      out.warnings.push_back("line 1 looks like a header and was skipped (the format has none)");
      continue;
    }
    if (++data_lines > kMaxImportedSerials) {
      out.errors.emplace_back(line_no, "more than 5,000 serial numbers");
      break;
    }
    if (serial.empty()) {
      out.errors.emplace_back(line_no, "no serial number before the comma");
      continue;
    }
    // Lengths vary (10, 12 characters and more to come): letters and digits, 1-64.
    if (serial.size() > 64 || !std::all_of(serial.begin(), serial.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0;
        })) {
      out.errors.emplace_back(line_no, "\"" + serial.substr(0, 64) +
                                           "\" is not a serial number (letters and digits only)");
      continue;
    }
    std::transform(serial.begin(), serial.end(), serial.begin(), ::toupper);
    if (!Unquote(&details)) {
      out.errors.emplace_back(line_no, "the details field has an unbalanced quote");
      continue;
    }
    if (details.size() > 256) {
      out.errors.emplace_back(line_no, "details longer than 256 characters");
      continue;
    }
    if (!seen.insert(serial).second) {
      out.errors.emplace_back(line_no, serial + " appears twice");
      continue;
    }
    out.rows.emplace_back(std::move(serial), std::move(details));
  }
  return out;
}

}  // namespace mdmgw::configurator
