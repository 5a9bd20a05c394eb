// The self-service portal: branding limits (each over-long or malformed field refused, nothing
// changed), the logo's format and size read from its header, and the page an invited user opens —
// branded, escaped, linking to the OTA profile — which does not use the invitation up.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "configurator/portal_branding.h"
#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2Request;

constexpr char kTopic[] = "com.apple.mgmt.External.70e7a170-0000-4000-8000-00000000c0de";

// A PNG signature and IHDR chunk of |w|×|h| (all the portal reads), padded to |size| bytes.
std::string Png(int w, int h, size_t size = 64) {
  std::string b("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (int v : {w, h}) {
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  b.resize(std::max(size, b.size()), '\0');
  return b;
}

// A JPEG with an APP0 segment then a baseline frame header of |w|×|h|.
std::string Jpeg(int w, int h) {
  std::string b("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
  b += std::string("\xFF\xC0\x00\x11\x08", 5);
  b.push_back(static_cast<char>(h >> 8));
  b.push_back(static_cast<char>(h & 0xff));
  b.push_back(static_cast<char>(w >> 8));
  b.push_back(static_cast<char>(w & 0xff));
  b += std::string(12, '\x01');
  return b;
}

TEST(PortalBrandingTest, LogoSizeFromTheHeader) {
  auto png = configurator::ReadLogo(Png(320, 80));
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(png->content_type, "image/png");
  EXPECT_EQ(png->width, 320);
  EXPECT_EQ(png->height, 80);
  auto jpg = configurator::ReadLogo(Jpeg(400, 100));
  ASSERT_TRUE(jpg.ok()) << jpg.status().ToString();
  EXPECT_EQ(jpg->content_type, "image/jpeg");
  EXPECT_EQ(jpg->width, 400);
  EXPECT_EQ(jpg->height, 100);
  EXPECT_FALSE(configurator::ReadLogo("GIF89a....").ok());
  EXPECT_FALSE(configurator::ReadLogo(std::string("\xFF\xD8\xFF\xDA\x00\x02", 6)).ok())
      << "a JPEG whose image data comes before any frame header";
}

class PortalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    key_ = app_->api_keys().Create("admin")->key.Expose();
  }
  mdmgw::testing::H2TestClient::Stream Call(const std::string& method, const std::string& path,
                                            const std::string& body = "") {
    bool pem = body.rfind("-----BEGIN", 0) == 0;
    return H2Request(app_->port(), method, path,
                     {{"authorization", "Bearer " + key_},
                      {"content-type", pem ? "application/x-pem-file" : "application/json"}},
                     body);
  }
  mdmgw::testing::H2TestClient::Stream Get(const std::string& path) {
    return H2Request(app_->port(), "GET", path, {}, "");
  }
  static std::string Code(const mdmgw::testing::H2TestClient::Stream& s) {
    auto doc = nlohmann::json::parse(s.body, nullptr, false);
    return doc.is_object() && doc.contains("error") ? doc["error"]["code"].get<std::string>() : "";
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
};

TEST_F(PortalTest, BrandingLimitsAreEnforcedFieldByField) {
  nlohmann::json good = {{"company_name", "Example Corp 2"},
                         {"contact_name", "Help Desk"},
                         {"phone", "+1 (555) 010-0199"},
                         {"email", "help@example.com"},
                         {"additional_info", "Open 8-18 on weekdays."},
                         {"privacy_url", "https://example.com/privacy"},
                         {"website_url", "https://help.example.com"},
                         {"theme_color", "#123ABC"},
                         {"logo_base64", Base64Encode(Png(400, 100))}};
  auto put = Call("PUT", "/api/v1/portal", good.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  auto stored = nlohmann::json::parse(Call("GET", "/api/v1/portal").body);
  EXPECT_EQ(stored["company_name"], "Example Corp 2");
  EXPECT_EQ(stored["logo"]["width"], 400);
  EXPECT_EQ(stored["logo"]["content_type"], "image/png");

  // Each of these is refused with bad_portal naming the field, and changes nothing.
  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {{{"company_name", std::string(41, 'a')}}, "company_name: at most 40"},
      {{{"company_name", "Example & Co"}}, "company_name: only letters"},
      {{{"contact_name", std::string(41, 'b')}}, "contact_name: at most 40"},
      {{{"phone", std::string(21, '1')}}, "phone: at most 20"},
      {{{"phone", "call me"}}, "phone: only digits"},
      {{{"email", std::string(30, 'c') + "@example.com"}}, "email: at most 40"},
      {{{"email", "not-an-address"}}, "email: not a valid address"},
      {{{"additional_info", std::string(121, 'd')}}, "additional_info: at most 120"},
      {{{"privacy_url", "https://example.com/" + std::string(60, 'p')}}, "privacy_url: at most 79"},
      {{{"privacy_url", "http://example.com/privacy"}}, "privacy_url: must be an https"},
      {{{"website_url", "https://example.com/" + std::string(131, 'w')}},
       "website_url: at most 150"},
      {{{"website_name", std::string(41, 'n')}}, "website_name: at most 40"},
      {{{"theme_color", "blue"}}, "theme_color"},
      {{{"logo_base64", Base64Encode(Png(401, 100))}}, "logo: at most 400×100"},
      {{{"logo_base64", Base64Encode(Jpeg(300, 101))}}, "logo: at most 400×100"},
      {{{"logo_base64", Base64Encode(Png(10, 10, 751 * 1024))}}, "logo: at most 750 KB"},
      {{{"logo_base64", Base64Encode("GIF89a-not-allowed")}}, "not a PNG or JPEG"},
      {{{"colour", "#000000"}}, "unknown field colour"},
  };
  for (const auto& [body, says] : bad) {
    auto r = Call("PUT", "/api/v1/portal", body.dump());
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(Code(r), "bad_portal") << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << says << " in " << r.body;
  }
  auto after = nlohmann::json::parse(Call("GET", "/api/v1/portal").body);
  EXPECT_EQ(after, stored) << "refused updates changed nothing";
  // Several problems at once are all named.
  auto two = Call("PUT", "/api/v1/portal", R"({"email":"x","theme_color":"#12"})");
  EXPECT_NE(two.body.find("email"), std::string::npos);
  EXPECT_NE(two.body.find("theme_color"), std::string::npos);
  // Admin only.
  EXPECT_EQ(H2Request(app_->port(), "PUT", "/api/v1/portal", {}, good.dump()).status, 401);
  // The logo is served to users as stored; null removes it.
  auto logo = Get("/portal/logo");
  EXPECT_EQ(logo.status, 200);
  EXPECT_EQ(logo.body, Png(400, 100));
  ASSERT_EQ(Call("PUT", "/api/v1/portal", R"({"logo_base64":null})").status, 200);
  EXPECT_EQ(Get("/portal/logo").status, 404);
}

TEST_F(PortalTest, InvitedUserSeesTheBrandedPageAndDownloadsTheProfile) {
  auto cert = ca_.IssuePushCert("push", kTopic);
  ASSERT_EQ(Call("PUT", "/api/v1/apns/certificate", cert.cert_pem + cert.key_pem).status, 200);
  nlohmann::json branding = {{"company_name", "Contoso Labs"},
                             {"contact_name", "IT <Service> Desk"},
                             {"email", "it@contoso.example"},
                             {"privacy_url", "https://contoso.example/privacy"},
                             {"website_url", "https://it.contoso.example"},
                             {"logo_base64", Base64Encode(Jpeg(200, 50))}};
  ASSERT_EQ(Call("PUT", "/api/v1/portal", branding.dump()).status, 200);
  auto created = Call("POST", "/api/v1/enrollment-profiles", R"({"name":"BYOD","method":"ota"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string byod = nlohmann::json::parse(created.body)["id"];
  auto invite = Call("POST", "/api/v1/enrollment-profiles/" + byod + "/invitations",
                     R"({"user":"dana@contoso.example"})");
  ASSERT_EQ(invite.status, 201) << invite.body;
  auto inv = nlohmann::json::parse(invite.body);
  std::string portal_url = inv["portal_url"];
  std::string path = portal_url.substr(portal_url.find("/portal/"));

  auto page = Get(path);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<h1>Contoso Labs</h1>"), std::string::npos);
  EXPECT_NE(page.body.find("dana@contoso.example"), std::string::npos);
  EXPECT_NE(page.body.find("IT &lt;Service&gt; Desk"), std::string::npos) << "escaped";
  EXPECT_EQ(page.body.find("<Service>"), std::string::npos);
  EXPECT_NE(page.body.find("href=\"https://contoso.example/privacy\""), std::string::npos);
  EXPECT_NE(page.body.find("Go to IT website"), std::string::npos) << "the default link name";
  EXPECT_NE(page.body.find("cannot see"), std::string::npos);
  EXPECT_NE(page.body.find("src=\"/portal/logo\""), std::string::npos);
  size_t href = page.body.find("id=\"download\" href=\"");
  ASSERT_NE(href, std::string::npos) << page.body;
  href += 20;
  std::string download = page.body.substr(href, page.body.find('"', href) - href);
  EXPECT_EQ(download.rfind("/enroll/ota/" + byod + "?invite=", 0), 0u) << download;

  // Looking twice does not use the invitation; downloading does.
  EXPECT_EQ(Get(path).status, 200);
  auto profile = Get(download);
  EXPECT_EQ(profile.status, 200) << profile.body;
  auto used = Get(path);
  EXPECT_EQ(used.status, 410);
  EXPECT_NE(used.body.find("already been used"), std::string::npos);
  EXPECT_EQ(used.body.find("id=\"download\""), std::string::npos);

  auto forged = Get("/portal/?invite=nothing-like-a-token");
  EXPECT_EQ(forged.status, 404);
  EXPECT_NE(forged.body.find("not valid"), std::string::npos);
  EXPECT_EQ(Get("/portal/").status, 400);
}

}  // namespace
}  // namespace mdmgw::gateway
