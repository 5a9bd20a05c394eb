#include "configurator/usb_sa_bundle.h"

#include <zip.h>

namespace mdmgw::configurator {

Result<std::string> MakeUsbSaZip(const UsbSaBundle& b) {
  // File contents must outlive zip_close (libzip reads the buffers then).
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back("enrollment-url.txt", b.enrollment_url + "\n");
  for (size_t i = 0; i < b.anchors_der.size(); ++i) {
    files.emplace_back("anchor-" + std::to_string(i + 1) + ".cer", b.anchors_der[i]);
  }
  std::string csv;
  for (const auto& [serial, details] : b.serials) {
    bool quote = details.find_first_of(",\"") != std::string::npos;
    std::string d = details;
    if (quote) {
      std::string escaped;
      for (char c : d) escaped += c == '"' ? std::string("\"\"") : std::string(1, c);
      d = "\"" + escaped + "\"";
    }
    csv += serial + "," + d + "\n";
  }
  files.emplace_back("serials.csv", csv);
  std::string readme = "Apple Configurator enrollment for " + b.server_name + "\n\n" +
                       "Enrollment URL: " + b.enrollment_url + "\n\n";
  for (size_t i = 0; i < b.steps.size(); ++i)
    readme += std::to_string(i + 1) + ". " + b.steps[i] + "\n";
  files.emplace_back("README.txt", readme);

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (out == nullptr) return Status::Internal("zip: cannot create a buffer");
  zip_source_keep(out);  // we read it back after zip_close
  zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &error);
  if (za == nullptr) {
    zip_source_free(out);
    return Status::Internal("zip: cannot open the archive");
  }
  for (const auto& [name, data] : files) {
    zip_source_t* src = zip_source_buffer(za, data.data(), data.size(), 0);
    if (src == nullptr || zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8) < 0) {
      if (src != nullptr) zip_source_free(src);
      zip_discard(za);
      zip_source_free(out);
      return Status::Internal("zip: cannot add " + name);
    }
  }
  if (zip_close(za) != 0) {
    zip_discard(za);
    zip_source_free(out);
    return Status::Internal("zip: cannot write the archive");
  }
  zip_stat_t st;
  std::string bytes;
  if (zip_source_stat(out, &st) == 0 && zip_source_open(out) == 0) {
    bytes.resize(st.size);
    zip_int64_t n = zip_source_read(out, bytes.data(), st.size);
    zip_source_close(out);
    if (n < 0 || static_cast<zip_uint64_t>(n) != st.size) bytes.clear();
  }
  zip_source_free(out);
  if (bytes.empty()) return Status::Internal("zip: cannot read the archive back");
  return bytes;
}

}  // namespace mdmgw::configurator
