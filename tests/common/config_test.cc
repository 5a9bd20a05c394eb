#include "common/config.h"

#include <gtest/gtest.h>

#include <map>

namespace mdmgw {
namespace {

TEST(ConfigTest, DefaultsMatchDesign) {
  GatewayConfig c;
  EXPECT_EQ(c.server.listen, "127.0.0.1:8443");
  EXPECT_EQ(c.data_dir, "./var");
  EXPECT_EQ(c.EffectiveStoreUrl(), "sqlite:./var/mdm-gateway.db");
  EXPECT_EQ(c.apns.base_url, "https://api.push.apple.com");
  EXPECT_EQ(c.server.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.devices.checkin_max_body_bytes, 256u << 10);
  EXPECT_EQ(c.server.max_concurrent_streams, 100u);
  EXPECT_TRUE(Validate(c).ok());
}

TEST(ConfigTest, FixedNamesExist) {
  std::map<std::string, std::string> flag_to_env;
  for (const auto& o : ConfigOptions()) flag_to_env[o.flag] = o.env;
  EXPECT_EQ(flag_to_env["--listen"], "MDMGW_LISTEN");
  EXPECT_EQ(flag_to_env["--data-dir"], "MDMGW_DATA_DIR");
  EXPECT_EQ(flag_to_env["--store"], "MDMGW_STORE");
  EXPECT_EQ(flag_to_env["--upstream-url"], "MDMGW_UPSTREAM_URL");
  EXPECT_EQ(flag_to_env["--devices-ca-file"], "MDMGW_DEVICES_CA_FILE");
  EXPECT_EQ(flag_to_env["--apns-base-url"], "MDMGW_APNS_BASE_URL");
  EXPECT_EQ(flag_to_env["--apns-ca-file"], "MDMGW_APNS_CA_FILE");
  EXPECT_EQ(flag_to_env["--machineinfo-ca-file"], "MDMGW_ENROLLMENT_MACHINEINFO_CA_FILE");
}

TEST(ConfigTest, TomlSetsSectionsAndTopLevel) {
  GatewayConfig c;
  Status s = ApplyTomlText(c, R"(
data_dir = "/srv/gw"
[server]
listen = "0.0.0.0:9443"
max_concurrent_streams = 250
[store]
url = "postgres://gw@db:5432/gw"
[upstream]
url = "http://core:9000/mdm"
)",
                           "test.toml");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.data_dir, "/srv/gw");
  EXPECT_EQ(c.server.listen, "0.0.0.0:9443");
  EXPECT_EQ(c.server.max_concurrent_streams, 250u);
  EXPECT_EQ(c.EffectiveStoreUrl(), "postgres://gw@db:5432/gw");
  EXPECT_EQ(c.upstream.url, "http://core:9000/mdm");
}

TEST(ConfigTest, TomlErrorsNameTheProblem) {
  GatewayConfig c;
  Status unknown = ApplyTomlText(c, "[server]\nlisen = \"x\"\n", "gw.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown setting [server] lisen"), std::string::npos)
      << unknown.message();

  Status bad_int = ApplyTomlText(c, "[server]\nmax_connections = \"lots\"\n", "gw.toml");
  ASSERT_FALSE(bad_int.ok());
  EXPECT_NE(bad_int.message().find("max_connections"), std::string::npos);

  Status syntax = ApplyTomlText(c, "[server\n", "gw.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.message().find("gw.toml:"), std::string::npos);
  EXPECT_EQ(c.server.max_connections, GatewayConfig().server.max_connections)
      << "failed input changed config";
}

TEST(ConfigTest, EnvironmentOverridesToml) {
  GatewayConfig c;
  ASSERT_TRUE(ApplyTomlText(c, "[server]\nlisten = \"127.0.0.1:1000\"\n", "t").ok());
  std::map<std::string, std::string> env = {{"MDMGW_LISTEN", "127.0.0.1:2000"},
                                            {"MDMGW_SERVER_IDLE_TIMEOUT_SECONDS", "7"}};
  ASSERT_TRUE(ApplyEnvironment(c, [&](const char* name) -> const char* {
                auto it = env.find(name);
                return it == env.end() ? nullptr : it->second.c_str();
              }).ok());
  EXPECT_EQ(c.server.listen, "127.0.0.1:2000");
  EXPECT_EQ(c.server.idle_timeout_seconds, 7);

  env = {{"MDMGW_SERVER_THREADS", "-3"}};
  Status s = ApplyEnvironment(c, [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("MDMGW_SERVER_THREADS"), std::string::npos);
}

TEST(ConfigTest, ValidateRejectsBadValues) {
  GatewayConfig c;
  c.server.listen = "nonsense";
  EXPECT_FALSE(Validate(c).ok());
  c = GatewayConfig();
  c.store.url = "mysql://x";
  EXPECT_FALSE(Validate(c).ok());
  c = GatewayConfig();
  c.server.tls_cert_file = "/x.crt";
  EXPECT_FALSE(Validate(c).ok()) << "cert without key";
}

TEST(ConfigTest, ParseHostPort) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(ParseHostPort("[::1]:8443", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8443);
  EXPECT_FALSE(ParseHostPort("127.0.0.1:99999", &host, &port).ok());
  EXPECT_FALSE(ParseHostPort(":80", &host, &port).ok());
}

}  // namespace
}  // namespace mdmgw
