#include "configurator/portal_branding.h"

#include <cctype>
#include <vector>

#include "common/encoding.h"

namespace mdmgw::configurator {
namespace {

constexpr size_t kMaxLogoBytes = 750 * 1024;
constexpr int kMaxLogoWidth = 400;
constexpr int kMaxLogoHeight = 100;

// Characters, not bytes: names may hold accented letters (UTF-8).
size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsHttpsUrl(const std::string& s) {
  if (s.rfind("https://", 0) != 0 || s.size() <= 8) return false;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == 0x7f) return false;
  }
  return s[8] != '/';
}

bool IsEmail(const std::string& s) {
  size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) return false;
  std::string domain = s.substr(at + 1);
  size_t dot = domain.find('.');
  if (dot == std::string::npos || dot == 0 || domain.back() == '.') return false;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
        c == ';' || c == ':' || c == '\\' || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

// Minimal HTML escaping for text and attribute values (the five significant characters); the
// page is small and static, so no template library is pulled in for it.
std::string Html(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

int Be16(const std::string& b, size_t at) {
  return (static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]);
}

}  // namespace

nlohmann::json PortalBranding::ToJson() const {
  nlohmann::json j = {{"company_name", company_name},
                      {"contact_name", contact_name},
                      {"phone", phone},
                      {"email", email},
                      {"additional_info", additional_info},
                      {"privacy_url", privacy_url},
                      {"website_url", website_url},
                      {"website_name", website_name},
                      {"theme_color", theme_color}};
  if (logo) {
    j["logo"] = {{"content_type", logo->content_type},
                 {"width", logo->width},
                 {"height", logo->height},
                 {"bytes", logo->bytes.size()}};
  } else {
    j["logo"] = nullptr;
  }
  return j;
}

PortalBranding PortalBranding::FromJson(const nlohmann::json& j) {
  PortalBranding b;
  if (!j.is_object()) return b;
  b.company_name = j.value("company_name", "");
  b.contact_name = j.value("contact_name", "");
  b.phone = j.value("phone", "");
  b.email = j.value("email", "");
  b.additional_info = j.value("additional_info", "");
  b.privacy_url = j.value("privacy_url", "");
  b.website_url = j.value("website_url", "");
  b.website_name = j.value("website_name", "");
  b.theme_color = j.value("theme_color", b.theme_color);
  return b;
}

Result<PortalLogo> ReadLogo(std::string bytes) {
  PortalLogo logo;
  static const std::string kPng("\x89PNG\r\n\x1a\n", 8);
  if (bytes.size() >= 24 && bytes.compare(0, 8, kPng) == 0 && bytes.compare(12, 4, "IHDR") == 0) {
    auto be32 = [&](size_t at) {
      return (static_cast<int64_t>(Be16(bytes, at)) << 16) | Be16(bytes, at + 2);
    };
    int64_t w = be32(16), h = be32(20);
    logo.width = static_cast<int>(std::min<int64_t>(w, 1 << 30));
    logo.height = static_cast<int>(std::min<int64_t>(h, 1 << 30));
    logo.content_type = "image/png";
  } else if (bytes.size() >= 4 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
             static_cast<unsigned char>(bytes[1]) == 0xD8) {
    // Walk the JPEG segments to the first start-of-frame, which holds the size.
    size_t at = 2;
    bool found = false;
    while (at + 4 <= bytes.size() && static_cast<unsigned char>(bytes[at]) == 0xFF) {
      unsigned char marker = static_cast<unsigned char>(bytes[at + 1]);
      if (marker == 0xFF) {  // fill byte
        ++at;
        continue;
      }
      if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
        at += 2;
        continue;
      }
      int len = Be16(bytes, at + 2);
      if (len < 2) break;
      bool sof =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        if (at + 9 > bytes.size()) break;
        logo.height = Be16(bytes, at + 5);
        logo.width = Be16(bytes, at + 7);
        found = true;
        break;
      }
      if (marker == 0xDA) break;  // image data before any frame header
      at += 2 + static_cast<size_t>(len);
    }
    if (!found) return Status::InvalidArgument("logo: a JPEG without a frame header", "bad_portal");
    logo.content_type = "image/jpeg";
  } else {
    return Status::InvalidArgument("logo: not a PNG or JPEG image", "bad_portal");
  }
  logo.bytes = std::move(bytes);
  return logo;
}

Result<PortalBranding> ApplyPortalUpdate(const PortalBranding& current,
                                         const nlohmann::json& update) {
  if (!update.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object", "bad_portal");
  }
  PortalBranding b = current;
  std::vector<std::string> problems;
  struct Field {
    const char* name;
    std::string* value;
    size_t max;
  };
  const Field fields[] = {{"company_name", &b.company_name, 40},
                          {"contact_name", &b.contact_name, 40},
                          {"phone", &b.phone, 20},
                          {"email", &b.email, 40},
                          {"additional_info", &b.additional_info, 120},
                          {"privacy_url", &b.privacy_url, 79},
                          {"website_url", &b.website_url, 150},
                          {"website_name", &b.website_name, 40},
                          {"theme_color", &b.theme_color, 7}};
  for (const auto& [key, value] : update.items()) {
    if (key == "logo_base64") continue;
    const Field* f = nullptr;
    for (const auto& candidate : fields) {
      if (key == candidate.name) f = &candidate;
    }
    if (f == nullptr) {
      problems.push_back("unknown field " + key);
      continue;
    }
    if (!value.is_string()) {
      problems.push_back(key + ": must be a string");
      continue;
    }
    std::string v = value.get<std::string>();
    if (CodePoints(v) > f->max) {
      problems.push_back(key + ": at most " + std::to_string(f->max) + " characters (got " +
                         std::to_string(CodePoints(v)) + ")");
      continue;
    }
    *f->value = std::move(v);
  }
  // Content rules on the result (an empty optional field is fine).
  for (unsigned char c : b.company_name) {
    if (!(std::isalnum(c) || c == ' ' || c >= 0x80)) {
      problems.push_back("company_name: only letters, digits and spaces");
      break;
    }
  }
  for (unsigned char c : b.phone) {
    if (!(std::isdigit(c) || c == ' ' || c == '+' || c == '-' || c == '(' || c == ')' ||
          c == '.')) {
      problems.push_back("phone: only digits, spaces and + - ( ) .");
      break;
    }
  }
  if (!b.email.empty() && !IsEmail(b.email)) problems.push_back("email: not a valid address");
  if (!b.privacy_url.empty() && !IsHttpsUrl(b.privacy_url)) {
    problems.push_back("privacy_url: must be an https:// URL");
  }
  if (!b.website_url.empty() && !IsHttpsUrl(b.website_url)) {
    problems.push_back("website_url: must be an https:// URL");
  }
  if (!b.website_name.empty() && b.website_url.empty()) {
    problems.push_back("website_name: needs website_url");
  }
  bool color_ok = b.theme_color.size() == 7 && b.theme_color[0] == '#';
  for (size_t i = 1; color_ok && i < 7; ++i) color_ok = std::isxdigit(b.theme_color[i]) != 0;
  if (!color_ok) problems.push_back("theme_color: must be #RRGGBB");

  if (update.contains("logo_base64")) {
    const auto& l = update["logo_base64"];
    if (l.is_null() || (l.is_string() && l.get<std::string>().empty())) {
      b.logo.reset();
    } else if (!l.is_string()) {
      problems.push_back("logo_base64: must be a base64 string or null");
    } else {
      auto bytes = Base64Decode(l.get<std::string>());
      if (!bytes.ok()) {
        problems.push_back("logo_base64: not base64");
      } else if (bytes->size() > kMaxLogoBytes) {
        problems.push_back("logo: at most 750 KB (got " + std::to_string(bytes->size() / 1024) +
                           " KB)");
      } else {
        auto logo = ReadLogo(std::move(bytes).value());
        if (!logo.ok()) {
          problems.push_back(logo.status().message());
        } else if (logo->width > kMaxLogoWidth || logo->height > kMaxLogoHeight ||
                   logo->width <= 0 || logo->height <= 0) {
          problems.push_back("logo: at most 400×100 pixels (got " + std::to_string(logo->width) +
                             "×" + std::to_string(logo->height) + ")");
        } else {
          b.logo = std::move(logo).value();
        }
      }
    }
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    return Status::InvalidArgument(msg, "bad_portal");
  }
  return b;
}

std::string RenderPortalPage(const PortalBranding& b, const PortalInvitation& inv, bool has_logo) {
  std::string company = b.company_name.empty() ? "Your organisation" : b.company_name;
  std::string color = b.theme_color.empty() ? "#0A5FB4" : b.theme_color;
  std::string h;
  h += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + Html(company) + " — enroll your device</title>\n<style>\n";
  h += "body{font-family:-apple-system,system-ui,sans-serif;margin:0;color:#1d1d1f;"
       "background:#f5f5f7}\n";
  h += "header{background:" + Html(color) + ";color:#fff;padding:1.2rem 1.5rem}\n";
  h += "header img{max-width:400px;max-height:100px;display:block;margin-bottom:.6rem;"
       "background:#fff;padding:4px;border-radius:4px}\n";
  h += "main{max-width:44rem;margin:0 auto;padding:1rem 1.5rem}\n";
  h += "section{background:#fff;border-radius:10px;padding:1rem 1.2rem;margin:1rem 0}\n";
  h += "a.button{display:inline-block;background:" + Html(color) +
       ";color:#fff;padding:.7rem 1.2rem;border-radius:8px;text-decoration:none;font-weight:600}\n";
  h += "a.button:focus{outline:3px solid #000;outline-offset:2px}\n";
  h += ".problem{color:#b00020;font-weight:600}\nul{padding-left:1.2rem}\n</style>\n</head>\n";
  h += "<body>\n<header>\n";
  if (has_logo) h += "<img src=\"/portal/logo\" alt=\"" + Html(company) + " logo\">\n";
  h += "<h1>" + Html(company) + "</h1>\n</header>\n<main>\n";
  h += "<section aria-labelledby=\"enroll\">\n<h2 id=\"enroll\">Enroll your device</h2>\n";
  if (inv.valid) {
    if (!inv.user.empty())
      h += "<p>This invitation is for <strong>" + Html(inv.user) + "</strong>.</p>\n";
    h += "<p>Download the enrollment profile on the iPhone, iPad or Mac you want to enroll, then "
         "open Settings (System Settings on a Mac) and install it from \"Profile "
         "Downloaded\".</p>\n";
    h += "<p><a class=\"button\" id=\"download\" href=\"" + Html(inv.download_url) +
         "\">Download the enrollment profile</a></p>\n";
    h += "<p>The invitation works once.</p>\n";
  } else {
    h += "<p class=\"problem\" role=\"alert\">" + Html(inv.problem) + "</p>\n";
    h += "<p>Ask your IT department for a new invitation.</p>\n";
  }
  h += "</section>\n";
  h += "<section aria-labelledby=\"privacy\">\n<h2 id=\"privacy\">What " + Html(company) +
       " can and cannot see on a personal device</h2>\n";
  h += "<p>Can see:</p>\n<ul><li>device model, serial number and operating system version</li>"
       "<li>the apps and settings it installs, and their status</li>"
       "<li>whether the device meets its requirements (for example, a passcode is set)</li></ul>\n";
  h += "<p>Cannot see:</p>\n<ul><li>your email, messages, photos, files or browsing history</li>"
       "<li>your personal apps and their data</li><li>your location</li>"
       "<li>your passwords or the content of your calls</li></ul>\n";
  h += "<p>Removing the enrollment profile removes what " + Html(company) +
       " installed, and it stops managing the device.</p>\n";
  if (!b.privacy_url.empty()) {
    h += "<p><a href=\"" + Html(b.privacy_url) + "\">Privacy statement</a></p>\n";
  }
  h += "</section>\n";
  bool contact = !b.contact_name.empty() || !b.phone.empty() || !b.email.empty() ||
                 !b.website_url.empty() || !b.additional_info.empty();
  if (contact) {
    h += "<section aria-labelledby=\"contact\">\n<h2 id=\"contact\">Contact IT</h2>\n<ul>\n";
    if (!b.contact_name.empty()) h += "<li>" + Html(b.contact_name) + "</li>\n";
    if (!b.phone.empty()) {
      h += "<li>Phone: <a href=\"tel:" + Html(b.phone) + "\">" + Html(b.phone) + "</a></li>\n";
    }
    if (!b.email.empty()) {
      h += "<li>Email: <a href=\"mailto:" + Html(b.email) + "\">" + Html(b.email) + "</a></li>\n";
    }
    if (!b.website_url.empty()) {
      std::string name = b.website_name.empty() ? "Go to IT website" : b.website_name;
      h += "<li><a href=\"" + Html(b.website_url) + "\">" + Html(name) + "</a></li>\n";
    }
    h += "</ul>\n";
    if (!b.additional_info.empty()) h += "<p>" + Html(b.additional_info) + "</p>\n";
    h += "</section>\n";
  }
  h += "</main>\n</body>\n</html>\n";
  return h;
}

}  // namespace mdmgw::configurator
