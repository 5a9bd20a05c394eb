// PortalBranding: the self-service enrollment portal (what Intune calls its Company Portal) for
// users who enroll their own devices over the air — the organisation's name, IT contact, privacy
// statement, support website, theme colour and logo — and the page an invited user sees.
//
// Limits (each refused with a message naming the field): company name ≤ 40 (letters, digits and
// spaces), IT contact name ≤ 40, phone ≤ 20, email ≤ 40 (an address), additional information ≤ 120,
// privacy statement URL ≤ 79 (https), support website URL ≤ 150 (https) and its name ≤ 40 ("Go to
// IT website" when only the URL is set), theme colour #RRGGBB, logo PNG or JPEG ≤ 400×100 px and ≤
// 750 KB.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"

namespace mdmgw::configurator {

struct PortalLogo {
  std::string bytes;
  std::string content_type;  // image/png or image/jpeg
  int width = 0, height = 0;
};

struct PortalBranding {
  std::string company_name, contact_name, phone, email, additional_info, privacy_url, website_url,
      website_name, theme_color = "#0A5FB4";
  std::optional<PortalLogo> logo;

  // The stored form (no logo bytes: those are kept beside it).
  nlohmann::json ToJson() const;
  static PortalBranding FromJson(const nlohmann::json& j);
};

// Applies an admin's update to |current|: every field given replaces the stored one ("" clears
// it); "logo_base64" sets the logo ("" or null removes it). InvalidArgument (reason "bad_portal")
// listing every field that is wrong; nothing is applied then.
Result<PortalBranding> ApplyPortalUpdate(const PortalBranding& current,
                                         const nlohmann::json& update);

// Reads a PNG's or JPEG's size from its header. InvalidArgument when it is neither.
Result<PortalLogo> ReadLogo(std::string bytes);

// What the invited user is shown.
struct PortalInvitation {
  bool valid = false;
  std::string problem;       // when not valid: why, in the user's words
  std::string user;          // who was invited
  std::string download_url;  // the OTA enrollment profile, when valid
};

// The portal page (HTML, everything escaped, no external resources).
std::string RenderPortalPage(const PortalBranding& branding, const PortalInvitation& invitation,
                             bool has_logo);

}  // namespace mdmgw::configurator
