#include "gateway/router.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "store/store.h"

namespace mdmgw::gateway {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::Store::Open("sqlite::memory:")).value();
    keys_ = std::make_unique<ApiKeys>(store_->api_keys(), Clock::System());
    router_ = std::make_unique<Router>(1000, metrics_, keys_.get());
  }

  net::Response Call(const std::string& method, const std::string& path,
                     const std::string& auth = "") {
    auto req = std::make_unique<net::Request>();
    req->method = method;
    size_t q = path.find('?');
    req->path = path.substr(0, q);
    if (q != std::string::npos) req->query = path.substr(q + 1);
    if (!auth.empty()) req->headers.Add("authorization", auth);
    net::Response out;
    bool called = false;
    router_->Handle(std::move(req), [&](net::Response r) {
      out = std::move(r);
      called = true;
    });
    EXPECT_TRUE(called);
    return out;
  }

  metrics::Registry registry_;
  GatewayMetrics metrics_{registry_};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ApiKeys> keys_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, MatchesParametersAndSuffixes) {
  router_->Add("GET", "/enroll/configurator/{profile}.mobileconfig",
               [](const net::Request& r, net::Respond respond) {
                 respond(net::Response::Text(
                     200, std::string(r.PathParam("profile").value_or("?")) + "|" + r.route));
               });
  router_->Add("POST", "/enroll/dep/{profile}", [](const net::Request& r, net::Respond respond) {
    respond(net::Response::Text(200, std::string(r.PathParam("profile").value_or("?")) + "|" +
                                         r.QueryParam("k").value_or("none")));
  });
  EXPECT_EQ(Call("GET", "/enroll/configurator/lab%20ipads.mobileconfig").body,
            "lab ipads|/enroll/configurator/{profile}.mobileconfig");
  EXPECT_EQ(Call("POST", "/enroll/dep/abc?k=a%2Bb+c").body, "abc|a+b c");
  EXPECT_EQ(Call("GET", "/enroll/configurator/x.plist").status, 404);
  EXPECT_EQ(Call("GET", "/enroll/configurator/.mobileconfig").status, 404) << "empty parameter";
  EXPECT_EQ(Call("POST", "/enroll/dep/a/b").status, 404);

  net::Response wrong_method = Call("GET", "/enroll/dep/abc");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.headers.Get("allow").value_or(""), "POST");
  EXPECT_NE(wrong_method.body.find("method_not_allowed"), std::string::npos);
}

TEST_F(RouterTest, BodyLimitsArePerRoute) {
  router_->Add("PUT", "/mdm/checkin",
               [](const net::Request&, net::Respond r) { r(net::Response::Text(200, "")); },
               {.max_body_bytes = 256});
  net::Request req;
  req.method = "PUT";
  req.path = "/mdm/checkin";
  EXPECT_EQ(router_->MaxBodyBytes(req), 256u);
  req.path = "/other";
  EXPECT_EQ(router_->MaxBodyBytes(req), 1000u) << "default for unmatched paths";
}

TEST_F(RouterTest, AdminPathsNeedAKeyEvenWhenUnrouted) {
  router_->Add("GET", "/api/v1/thing",
               [](const net::Request&, net::Respond r) { r(net::Response::Text(200, "thing")); });
  EXPECT_EQ(Call("GET", "/api/v1/thing").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/unknown").status, 401) << "no route probing without a key";
  auto key = keys_->Create("t");
  ASSERT_TRUE(key.ok());
  std::string auth = "Bearer " + key->key.Expose();
  EXPECT_EQ(Call("GET", "/api/v1/thing", auth).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/unknown", auth).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/thing", "Basic abc").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/thing", "\xc3\xa9\xff\xfe\x80\x81\x82 key").status, 401)
      << "non-ASCII Authorization bytes are refused cleanly";
  EXPECT_EQ(Call("GET", "/api/v1/thing", "bearer " + key->key.Expose()).status, 200)
      << "the scheme is case-insensitive (RFC 9110 §11.1)";
}

TEST_F(RouterTest, CountsRequestsByRoutePatternNotPath) {
  router_->Add("GET", "/items/{id}",
               [](const net::Request&, net::Respond r) { r(net::Response::Text(204, "")); });
  Call("GET", "/items/1");
  Call("GET", "/items/2");
  Call("GET", "/nothing/here");
  std::string text = registry_.Render();
  EXPECT_NE(
      text.find("mdmgw_http_requests_total{route=\"/items/{id}\",method=\"GET\",status=\"204\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"unmatched\",method=\"other\",status=\"404\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("mdmgw_http_request_duration_seconds_count{route=\"/items/{id}\"} 2"),
            std::string::npos);
}

}  // namespace
}  // namespace mdmgw::gateway
