#include "gateway/cli/admin_cli.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "common/encoding.h"
#include "net/h1_client.h"

namespace mdmgw::gateway::cli {
namespace {

constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;
constexpr int kUnreachable = 3;

// A path segment (a name or id in the URL).
std::string Segment(const std::string& s) { return PercentEncode(s); }

// A JSON value as one table cell.
std::string Cell(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

// |v| at a "/a/b" pointer, or null.
nlohmann::json At(const nlohmann::json& v, const std::string& pointer) {
  try {
    return v.at(nlohmann::json::json_pointer(pointer));
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

struct Column {
  std::string header;
  std::string pointer;  // into each row
};

void PrintTable(std::ostream& out, const nlohmann::json& rows, const std::vector<Column>& cols) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width;
  for (const auto& c : cols) width.push_back(c.header.size());
  if (rows.is_array()) {
    for (const auto& row : rows) {
      std::vector<std::string> line;
      for (size_t i = 0; i < cols.size(); ++i) {
        line.push_back(Cell(At(row, cols[i].pointer)));
        width[i] = std::max(width[i], line.back().size());
      }
      cells.push_back(std::move(line));
    }
  }
  auto print = [&](const std::vector<std::string>& line) {
    for (size_t i = 0; i < line.size(); ++i) {
      out << line[i];
      if (i + 1 < line.size()) out << std::string(width[i] - line[i].size() + 2, ' ');
    }
    out << "\n";
  };
  std::vector<std::string> header;
  for (const auto& c : cols) header.push_back(c.header);
  print(header);
  for (const auto& line : cells) print(line);
  if (cells.empty()) out << "(none)\n";
}

// "key: value" lines for |keys| (pointers), or every top-level scalar when |keys| is empty;
// nested objects print their scalars as "parent.child".
void PrintFields(std::ostream& out, const nlohmann::json& v, const std::vector<Column>& keys) {
  std::vector<std::pair<std::string, std::string>> lines;
  if (!keys.empty()) {
    for (const auto& k : keys) lines.emplace_back(k.header, Cell(At(v, k.pointer)));
  } else if (v.is_object()) {
    for (const auto& [k, item] : v.items()) {
      if (item.is_object()) {
        for (const auto& [k2, sub] : item.items()) {
          if (!sub.is_structured()) lines.emplace_back(k + "." + k2, Cell(sub));
        }
      } else if (!item.is_array()) {
        lines.emplace_back(k, Cell(item));
      }
    }
  }
  size_t w = 0;
  for (const auto& [k, _] : lines) w = std::max(w, k.size());
  for (const auto& [k, val] : lines)
    out << k << ":" << std::string(w - k.size() + 1, ' ') << val << "\n";
}

std::string Ago(const nlohmann::json& unix_seconds) {
  if (!unix_seconds.is_number_integer() || unix_seconds.get<int64_t>() == 0) return "never";
  return Rfc3339(unix_seconds.get<int64_t>());
}

}  // namespace

// One command's connection to the gateway, and where its output goes.
class AdminSession {
 public:
  AdminSession(AdminTarget target, std::unique_ptr<net::H1Client> http, bool json,
               std::ostream& out, std::ostream& err)
      : target_(std::move(target)), http_(std::move(http)), json_(json), out(out), err(err) {}

  struct Reply {
    int status = 0;
    std::string body;
    nlohmann::json json;  // null unless the body was JSON
  };

  // Sends one request. Returns kOk for a 2xx (|reply| filled); otherwise prints why to stderr
  // and returns the exit code.
  int Call(const std::string& method, const std::string& path, std::string body,
           const std::string& content_type, Reply* reply, const net::Headers& extra = {}) {
    net::ClientRequest req;
    req.method = method;
    req.url = target_.server_url + path;
    req.timeout = std::chrono::seconds(120);  // a sync with ?wait=1 can take a while
    req.headers.Add("authorization", "Bearer " + target_.api_key);
    if (!content_type.empty()) req.headers.Add("content-type", content_type);
    req.headers.Add("accept", "application/json");
    for (const auto& [n, v] : extra.fields()) req.headers.Add(n, v);
    req.body = std::move(body);
    auto r = http_->SendSync(std::move(req));
    if (!r.ok()) {
      err << "mdm-gateway: cannot reach the gateway at " << target_.server_url << ": "
          << r.status().message() << "\n";
      return kUnreachable;
    }
    reply->status = r->status;
    reply->body = std::move(r->body);
    auto ct = r->headers.Get("content-type");
    if (ct && ct->find("json") != std::string_view::npos) {
      reply->json = nlohmann::json::parse(reply->body, nullptr, false);
      if (reply->json.is_discarded()) reply->json = nullptr;
    }
    if (reply->status >= 200 && reply->status < 300) return kOk;
    std::string code = "http_" + std::to_string(reply->status);
    std::string message = reply->body;
    if (reply->json.is_object() && reply->json.contains("error") &&
        reply->json["error"].is_object()) {
      code = reply->json["error"].value("code", code);
      message = reply->json["error"].value("message", message);
    }
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    err << "mdm-gateway: " << method << " " << path << ": " << reply->status << " " << code << ": "
        << message << "\n";
    // The whole error body too when it says more than code and message (per-line CSV errors,
    // the topic-change details).
    if (reply->json.is_object() && reply->json.size() > 1) err << reply->json.dump(2) << "\n";
    return reply->status >= 500 ? kUnreachable : kRefused;
  }

  // Sends a request and prints the answer: the JSON as is with --json, else |human|.
  int Show(const std::string& method, const std::string& path, std::string body,
           const std::string& content_type, const std::function<void(const nlohmann::json&)>& human,
           const net::Headers& extra = {}) {
    Reply reply;
    int rc = Call(method, path, std::move(body), content_type, &reply, extra);
    if (rc != kOk) return rc;
    if (json_) {
      out << (reply.json.is_null() ? reply.body : reply.json.dump(2)) << "\n";
    } else {
      human(reply.json);
    }
    return kOk;
  }

  // Sends a request and writes the raw answer to |file| ("" or "-": stdout).
  int Download(const std::string& path, const std::string& file) {
    Reply reply;
    int rc = Call("GET", path, "", "", &reply);
    if (rc != kOk) return rc;
    if (file.empty() || file == "-") {
      out << reply.body;
      return kOk;
    }
    Status s = WriteFileAtomic(file, reply.body, 0644);
    if (!s.ok()) {
      err << "mdm-gateway: " << s.message() << "\n";
      return kUsage;
    }
    out << "wrote " << file << " (" << reply.body.size() << " bytes)\n";
    return kOk;
  }

  // Reads a file the user named; on failure prints why and returns nullopt.
  std::optional<std::string> Read(const std::string& file) {
    auto data = ReadFile(file);
    if (!data.ok()) {
      err << "mdm-gateway: cannot read " << file << ": " << data.status().message() << "\n";
      return std::nullopt;
    }
    return std::move(data).value();
  }

  bool json() const { return json_; }

 private:
  AdminTarget target_;
  std::unique_ptr<net::H1Client> http_;
  bool json_;

 public:
  std::ostream& out;
  std::ostream& err;
};

AdminCli::~AdminCli() = default;

CLI::App* AdminCli::Group(CLI::App& app, const std::string& name, const std::string& help) {
  CLI::App* g = app.add_subcommand(name, help);
  g->require_subcommand(1);
  g->fallthrough();  // the connection flags may come after the leaf command too
  g->add_option("--server", flags_.server_url,
                "gateway URL (env MDMGW_SERVER_URL; default https://127.0.0.1:8443)");
  g->add_option("--api-key", flags_.api_key, "admin API key (env MDMGW_API_KEY)");
  g->add_option("--ca-file", flags_.ca_file,
                "CA bundle that signed the gateway's TLS certificate (env MDMGW_CA_FILE; default "
                "<data dir>/tls/server.crt when present)");
  g->add_option("--cli-config", flags_.config_file,
                "CLI config file (env MDMGW_CLI_CONFIG; default ~/.config/mdm-gateway/cli.toml)");
  g->add_flag("--json", json_, "print the gateway's JSON answer unchanged");
  return g;
}

CLI::App* AdminCli::Leaf(CLI::App* group, const std::string& name, const std::string& help,
                         Command fn) {
  CLI::App* leaf = group->add_subcommand(name, help);
  leaf->callback([this, fn = std::move(fn)] { selected_ = fn; });
  return leaf;
}

AdminCli::AdminCli(CLI::App& app) {
  // Values the leaf commands read; they live as long as this object.
  struct Args {
    std::string cert, key, pkcs12, password, apple_id, common_name, email, out, file, name, profile,
        base_url, status, method, format, enrollment_profile, after, server;
    bool force = false, wait = false, zip = false, supervised = false;
    int limit = 0;
    int64_t sync_interval = 0;
    std::vector<std::string> ids;
  };
  auto a = std::make_shared<Args>();

  // --- audit ----------------------------------------------------------------------------------
  CLI::App* audit = Group(app, "audit", "the admin audit log");
  CLI::App* alist =
      Leaf(audit, "list", "admin changes, newest first (who, what, when)", [a](AdminSession& s) {
        std::string q = "?limit=" + std::to_string(a->limit > 0 ? a->limit : 100);
        if (!a->after.empty()) q += "&before=" + PercentEncode(a->after);
        return s.Show("GET", "/api/v1/audit" + q, "", "", [&](const nlohmann::json& j) {
          nlohmann::json rows = j.value("records", nlohmann::json::array());
          for (auto& r : rows) r["when"] = Ago(r.value("at", nlohmann::json()));
          PrintTable(s.out, rows,
                     {{"ID", "/id"},
                      {"WHEN", "/when"},
                      {"WHO", "/actor/name"},
                      {"METHOD", "/method"},
                      {"PATH", "/path"},
                      {"STATUS", "/status"},
                      {"ERROR", "/error"}});
          if (j.contains("next_before")) {
            s.out << "more: --before " << Cell(j["next_before"]) << "\n";
          }
        });
      });
  alist->add_option("--limit", a->limit, "at most this many (default 100, at most 500)");
  alist->add_option("--before", a->after, "older than this record id");

  // --- apns -----------------------------------------------------------------------------------
  CLI::App* apns = Group(app, "apns", "the APNs push certificate");
  static const std::vector<Column> kCertFields = {
      {"topic", "/topic"},           {"subject", "/subject"},     {"serial", "/serial"},
      {"not_before", "/not_before"}, {"not_after", "/not_after"}, {"days_left", "/days_left"},
      {"apple_id", "/apple_id"}};
  Leaf(apns, "show", "the stored push certificate (topic, expiry, Apple ID)", [](AdminSession& s) {
    return s.Show("GET", "/api/v1/apns/certificate", "", "",
                  [&](const nlohmann::json& j) { PrintFields(s.out, j, kCertFields); });
  });
  CLI::App* upload =
      Leaf(apns, "upload", "upload a push certificate (PEM pair or PKCS#12)", [a](AdminSession& s) {
        std::string body, type;
        net::Headers extra;
        if (!a->pkcs12.empty()) {
          auto p12 = s.Read(a->pkcs12);
          if (!p12) return kUsage;
          body = std::move(*p12);
          type = "application/x-pkcs12";
          extra.Add("x-pkcs12-password", a->password);
        } else {
          if (a->cert.empty()) {
            s.err
                << "mdm-gateway: apns upload needs --cert (with --key unless it holds the key, or "
                   "after apns csr) or --pkcs12\n";
            return kUsage;
          }
          auto cert = s.Read(a->cert);
          if (!cert) return kUsage;
          body = std::move(*cert);
          if (!a->key.empty()) {
            auto key = s.Read(a->key);
            if (!key) return kUsage;
            if (!body.empty() && body.back() != '\n') body += "\n";
            body += *key;
          }
          type = "application/x-pem-file";
        }
        std::string q;
        if (a->force) q += "&force=1";
        if (!a->apple_id.empty()) q += "&apple_id=" + PercentEncode(a->apple_id);
        if (!q.empty()) q[0] = '?';
        return s.Show(
            "PUT", "/api/v1/apns/certificate" + q, std::move(body), type,
            [&](const nlohmann::json& j) { PrintFields(s.out, j, kCertFields); }, extra);
      });
  upload->add_option("--cert", a->cert, "certificate PEM (Apple's MDM push certificate)");
  upload->add_option("--key", a->key, "its private key PEM (unencrypted)");
  upload->add_option("--pkcs12", a->pkcs12, "a PKCS#12 file instead of --cert/--key");
  upload->add_option("--password", a->password, "the PKCS#12 password");
  upload->add_flag("--force", a->force,
                   "replace a certificate with another topic (every enrolled device stops "
                   "answering pushes)");
  upload->add_option("--apple-id", a->apple_id, "the Apple ID that created the certificate");
  CLI::App* csr = Leaf(
      apns, "csr", "make a key (kept sealed in the gateway) and its CSR", [a](AdminSession& s) {
        nlohmann::json body = {{"common_name", a->common_name}, {"email", a->email}};
        AdminSession::Reply reply;
        int rc = s.Call("POST", "/api/v1/apns/csr", body.dump(), "application/json", &reply);
        if (rc != kOk) return rc;
        if (s.json()) {
          s.out << reply.json.dump(2) << "\n";
          return kOk;
        }
        std::string pem = reply.json.value("csr_pem", "");
        if (a->out.empty()) {
          s.out << pem;
          return kOk;
        }
        Status w = WriteFileAtomic(a->out, pem, 0644);
        if (!w.ok()) {
          s.err << "mdm-gateway: " << w.message() << "\n";
          return kUsage;
        }
        s.out << "wrote " << a->out << "; have it signed, then `mdm-gateway apns upload --cert`\n";
        return kOk;
      });
  csr->add_option("--common-name", a->common_name, "the CSR's CN")->required();
  csr->add_option("--email", a->email, "the CSR's email address")->required();
  csr->add_option("--out", a->out, "write the CSR PEM here (default: stdout)");

  // --- devices --------------------------------------------------------------------------------
  CLI::App* devices = Group(app, "devices", "enrolled devices");
  CLI::App* dlist = Leaf(devices, "list", "enrollments seen at check-in", [a](AdminSession& s) {
    std::string q = "?limit=" + std::to_string(a->limit > 0 ? a->limit : 100);
    if (!a->after.empty()) q += "&after=" + PercentEncode(a->after);
    return s.Show("GET", "/api/v1/devices" + q, "", "", [&](const nlohmann::json& j) {
      nlohmann::json rows = j.value("devices", nlohmann::json::array());
      for (auto& r : rows) r["last_seen"] = Ago(r.value("last_seen_at", nlohmann::json()));
      PrintTable(s.out, rows,
                 {{"ID", "/id"},
                  {"SERIAL", "/serial"},
                  {"STATUS", "/status"},
                  {"METHOD", "/enrollment_method"},
                  {"DEP SERVER", "/dep_server"},
                  {"PUSH TOKEN", "/push/token_present"},
                  {"USER", "/user/short_name"},
                  {"LAST SEEN", "/last_seen"}});
      if (j.contains("next_after")) {
        s.out << "more: --after " << Cell(j["next_after"]) << "\n";
      }
    });
  });
  dlist->add_option("--limit", a->limit, "at most this many (default 100)");
  dlist->add_option("--after", a->after, "continue after this id");
  CLI::App* dshow = Leaf(devices, "show", "one enrollment", [a](AdminSession& s) {
    return s.Show("GET", "/api/v1/devices/" + Segment(a->name), "", "",
                  [&](const nlohmann::json& j) { PrintFields(s.out, j, {}); });
  });
  dshow->add_option("id", a->name, "UDID or enrollment id")->required();
  CLI::App* push =
      Leaf(devices, "push", "send an MDM push (the device checks in)", [a](AdminSession& s) {
        nlohmann::json body = {{"enrollment_ids", a->ids}};
        AdminSession::Reply reply;
        int rc = s.Call("POST", "/api/v1/push", body.dump(), "application/json", &reply);
        if (rc != kOk) return rc;
        if (s.json()) {
          s.out << reply.json.dump(2) << "\n";
        } else {
          PrintTable(s.out, reply.json.value("results", nlohmann::json::array()),
                     {{"ID", "/enrollment_id"},
                      {"DELIVERED", "/delivered"},
                      {"APNS ID", "/apns_id"},
                      {"ERROR", "/error/code"}});
        }
        return reply.json.value("failed", 0) == 0 ? kOk : kRefused;
      });
  push->add_option("ids", a->ids, "enrollment ids (UDIDs)")->required();

  // --- routing --------------------------------------------------------------------------------
  CLI::App* routing = Group(app, "routing", "which core MDM each device's check-ins go to");
  Leaf(routing, "show", "the routing document", [](AdminSession& s) {
    AdminSession::Reply reply;
    int rc = s.Call("GET", "/api/v1/routing", "", "", &reply);
    if (rc == kOk) s.out << reply.json.dump(2) << "\n";
    return rc;
  });
  CLI::App* rset =
      Leaf(routing, "set", "replace the routing document with a JSON file", [a](AdminSession& s) {
        auto doc = s.Read(a->file);
        if (!doc) return kUsage;
        return s.Show("PUT", "/api/v1/routing", std::move(*doc), "application/json",
                      [&](const nlohmann::json& j) {
                        s.out << "routing updated\n";
                        PrintFields(s.out, j, {});
                      });
      });
  rset->add_option("file", a->file, "routing JSON (default, upstreams, groups, devices)")
      ->required();

  // --- dep ------------------------------------------------------------------------------------
  CLI::App* dep = Group(app, "dep", "Automated Device Enrollment (Apple Business Manager tokens)");
  Leaf(dep, "servers", "DEP servers: token expiry, terms, last sync, devices", [](AdminSession& s) {
    return s.Show("GET", "/api/v1/dep/servers", "", "", [&](const nlohmann::json& j) {
      nlohmann::json rows = j.value("servers", nlohmann::json::array());
      for (auto& r : rows) r["last_sync"] = Ago(At(r, "/sync/last_sync_at"));
      PrintTable(s.out, rows,
                 {{"NAME", "/name"},
                  {"TOKEN DAYS LEFT", "/token/days_left"},
                  {"TERMS", "/terms"},
                  {"LAST SYNC", "/last_sync"},
                  {"DEVICES", "/devices"},
                  {"ORGANISATION", "/account/org_name"}});
    });
  });
  CLI::App* dadd = Leaf(dep, "add", "create (or update) a DEP server", [a](AdminSession& s) {
    nlohmann::json body = nlohmann::json::object();
    if (!a->base_url.empty()) body["base_url"] = a->base_url;
    if (a->sync_interval > 0) body["sync_interval_seconds"] = a->sync_interval;
    return s.Show("PUT", "/api/v1/dep/servers/" + Segment(a->name), body.dump(), "application/json",
                  [&](const nlohmann::json& j) { PrintFields(s.out, j, {}); });
  });
  dadd->add_option("name", a->name, "server name")->required();
  dadd->add_option("--base-url", a->base_url, "DEP API base URL (default Apple's)");
  dadd->add_option("--sync-interval", a->sync_interval, "seconds between syncs");
  CLI::App* dcert =
      Leaf(dep, "cert", "the token-exchange certificate to upload to ABM", [a](AdminSession& s) {
        return s.Download("/api/v1/dep/servers/" + Segment(a->name) + "/certificate", a->out);
      });
  dcert->add_option("name", a->name, "server name")->required();
  dcert->add_option("--out", a->out, "write the PEM here (default: stdout)");
  CLI::App* dtoken =
      Leaf(dep, "token", "upload the .p7m server token from ABM", [a](AdminSession& s) {
        auto p7m = s.Read(a->file);
        if (!p7m) return kUsage;
        return s.Show(
            "PUT",
            "/api/v1/dep/servers/" + Segment(a->name) + "/token" + (a->force ? "?force=1" : ""),
            std::move(*p7m), "application/pkcs7-mime",
            [&](const nlohmann::json& j) { PrintFields(s.out, j, {}); });
      });
  dtoken->add_option("name", a->name, "server name")->required();
  dtoken->add_option("file", a->file, "the .p7m file")->required();
  dtoken->add_flag("--force", a->force, "accept a token for another consumer key");
  CLI::App* dsync = Leaf(dep, "sync", "sync devices now", [a](AdminSession& s) {
    if (a->wait && !s.json()) s.out << "syncing " << a->name << " ...\n" << std::flush;
    return s.Show("POST",
                  "/api/v1/dep/servers/" + Segment(a->name) + "/sync" + (a->wait ? "?wait=1" : ""),
                  "", "", [&](const nlohmann::json& j) { PrintFields(s.out, j, {}); });
  });
  dsync->add_option("name", a->name, "server name")->required();
  dsync->add_flag("--wait", a->wait, "wait for the result");
  CLI::App* ddev =
      Leaf(dep, "devices", "a server's devices and their assignment", [a](AdminSession& s) {
        std::string q = "?server=" + PercentEncode(a->server) +
                        "&limit=" + std::to_string(a->limit > 0 ? a->limit : 100);
        if (!a->status.empty()) q += "&status=" + PercentEncode(a->status);
        if (!a->after.empty()) q += "&cursor=" + PercentEncode(a->after);
        return s.Show("GET", "/api/v1/dep/devices" + q, "", "", [&](const nlohmann::json& j) {
          PrintTable(s.out, j.value("devices", nlohmann::json::array()),
                     {{"SERIAL", "/serial_number"},
                      {"MODEL", "/model"},
                      {"PROFILE STATUS", "/profile_status"},
                      {"ASSIGNMENT", "/assignment/state"},
                      {"PROFILE", "/assignment/profile_uuid"}});
          if (j.contains("next_cursor"))
            s.out << "more: --cursor " << Cell(j["next_cursor"]) << "\n";
        });
      });
  ddev->add_option("--server", a->server, "server name")->required();
  ddev->add_option("--status", a->status,
                   "assigned, pushed, unassigned, throttled, failed or not_accessible");
  ddev->add_option("--limit", a->limit, "at most this many (default 100)");
  ddev->add_option("--cursor", a->after, "continue from a previous page");
  CLI::App* dprof = Leaf(
      dep, "profile", "define a DEP profile at Apple from an enrollment profile",
      [a](AdminSession& s) {
        nlohmann::json body = {{"enrollment_profile", a->enrollment_profile}};
        return s.Show(
            "PUT", "/api/v1/dep/servers/" + Segment(a->name) + "/profiles/" + Segment(a->profile),
            body.dump(), "application/json",
            [&](const nlohmann::json& j) { PrintFields(s.out, j, {}); });
      });
  dprof->add_option("name", a->name, "server name")->required();
  dprof->add_option("profile", a->profile, "DEP profile name")->required();
  dprof
      ->add_option("--enrollment-profile", a->enrollment_profile,
                   "the dep enrollment profile it is made from")
      ->required();
  CLI::App* dassign = Leaf(dep, "assign", "assign a DEP profile to serials", [a](AdminSession& s) {
    nlohmann::json body = {{"serials", a->ids}};
    AdminSession::Reply reply;
    int rc = s.Call(
        "POST",
        "/api/v1/dep/servers/" + Segment(a->name) + "/profiles/" + Segment(a->profile) + "/assign",
        body.dump(), "application/json", &reply);
    if (rc != kOk) return rc;
    if (s.json()) {
      s.out << reply.json.dump(2) << "\n";
    } else {
      PrintFields(s.out, reply.json, {});
    }
    // Every serial SUCCESS → 0; any serial Apple did not accept (or that was not sent) → 1.
    int64_t success = reply.json.value("success", int64_t{0});
    return success == static_cast<int64_t>(a->ids.size()) ? kOk : kRefused;
  });
  dassign->add_option("name", a->name, "server name")->required();
  dassign->add_option("profile", a->profile, "DEP profile name")->required();
  dassign->add_option("serials", a->ids, "serial numbers")->required();

  // --- profiles -------------------------------------------------------------------------------
  CLI::App* profiles = Group(app, "profiles", "enrollment profiles and Configurator exports");
  Leaf(profiles, "list", "enrollment profiles", [](AdminSession& s) {
    return s.Show("GET", "/api/v1/enrollment-profiles", "", "", [&](const nlohmann::json& j) {
      PrintTable(s.out, j.value("profiles", nlohmann::json::array()),
                 {{"ID", "/id"},
                  {"NAME", "/name"},
                  {"METHOD", "/method"},
                  {"SUPERVISED", "/supervised"},
                  {"LOCKED", "/locked"},
                  {"USER AFFINITY", "/user_affinity"}});
    });
  });
  CLI::App* pcreate =
      Leaf(profiles, "create", "create an enrollment profile", [a](AdminSession& s) {
        nlohmann::json body = nlohmann::json::object();
        if (!a->file.empty()) {
          auto text = s.Read(a->file);
          if (!text) return kUsage;
          body = nlohmann::json::parse(*text, nullptr, false);
          if (!body.is_object()) {
            s.err << "mdm-gateway: " << a->file << " is not a JSON object\n";
            return kUsage;
          }
        }
        if (!a->name.empty()) body["name"] = a->name;
        if (!a->method.empty()) body["method"] = a->method;
        if (a->supervised) body["supervised"] = true;
        return s.Show("POST", "/api/v1/enrollment-profiles", body.dump(), "application/json",
                      [&](const nlohmann::json& j) { PrintFields(s.out, j, {}); });
      });
  pcreate->add_option("--name", a->name, "profile name");
  pcreate->add_option("--method", a->method, "dep, usb-sa, usb-direct, ota or dem");
  pcreate->add_flag("--supervised", a->supervised, "supervised (where the method allows)");
  pcreate->add_option("--file", a->file, "the whole profile as JSON (flags override it)");
  CLI::App* pexport =
      Leaf(profiles, "export", "an Apple Configurator export", [a](AdminSession& s) {
        std::string path = "/api/v1/enrollment-profiles/" + Segment(a->name) + "/export";
        std::string format = a->format;
        if (format.empty()) {
          // The profile's own method decides: usb-sa → its Configurator export, else the file.
          AdminSession::Reply profile;
          int rc =
              s.Call("GET", "/api/v1/enrollment-profiles/" + Segment(a->name), "", "", &profile);
          if (rc != kOk) return rc;
          std::string method = profile.json.is_object() ? profile.json.value("method", "") : "";
          format = method == "usb-sa" || method == "usb-direct" ? method : "mobileconfig";
        }
        std::string q = "&format=" + PercentEncode(format);
        if (a->zip) q += "&download=zip";
        if (!q.empty()) q[0] = '?';
        return s.Download(path + q, a->out);
      });
  pexport->add_option("id", a->name, "profile id or name")->required();
  pexport->add_option("--format", a->format,
                      "usb-sa, usb-direct or mobileconfig (default: from the profile's method)");
  pexport->add_flag("--zip", a->zip, "usb-sa: the zip bundle");
  pexport->add_option("--out", a->out, "write it here (default: stdout)");
}

namespace {

// Resolves the target and runs |fn| with a session to it.
int WithSession(const AdminTargetFlags& flags, bool json, const GetEnvFn& env, std::ostream& out,
                std::ostream& err, const std::function<int(AdminSession&)>& fn) {
  auto target = ResolveAdminTarget(flags, env);
  if (!target.ok()) {
    err << "mdm-gateway: " << target.status().message() << "\n";
    return kUsage;
  }
  net::H1ClientOptions options;
  options.ca_file = target->ca_file;
  auto http = net::H1Client::Create(options);
  if (!http.ok()) {
    err << "mdm-gateway: " << http.status().message() << "\n";
    return kUsage;
  }
  AdminSession session(std::move(target).value(), std::move(http).value(), json, out, err);
  return fn(session);
}

}  // namespace

int AdminCli::Run(const GetEnvFn& env, std::ostream& out, std::ostream& err) {
  if (!selected_) return kUsage;
  return WithSession(flags_, json_, env, out, err, selected_);
}

int RunApiKeyCommand(const std::string& action, const std::string& arg, const std::string& scope,
                     const AdminTargetFlags& flags, bool json, const GetEnvFn& env,
                     std::ostream& out, std::ostream& err) {
  return WithSession(flags, json, env, out, err, [&](AdminSession& s) {
    if (action == "list") {
      return s.Show("GET", "/api/v1/apikeys", "", "", [&](const nlohmann::json& j) {
        nlohmann::json rows = j.value("api_keys", nlohmann::json::array());
        for (auto& r : rows) {
          r["state"] = r.value("revoked_at", nlohmann::json()).is_null() ? "active" : "revoked";
          r["last_used"] = Ago(r.value("last_used_at", nlohmann::json()));
        }
        PrintTable(s.out, rows,
                   {{"ID", "/id"},
                    {"NAME", "/name"},
                    {"SCOPE", "/scope"},
                    {"STATE", "/state"},
                    {"LAST USED", "/last_used"}});
      });
    }
    if (action == "revoke") {
      return s.Show("DELETE", "/api/v1/apikeys/" + Segment(arg), "", "",
                    [&](const nlohmann::json& j) {
                      s.out << "revoked API key '" << Cell(At(j, "/revoked/name")) << "' (id "
                            << Cell(At(j, "/revoked/id")) << ")\n";
                    });
    }
    nlohmann::json body = {{"name", arg}, {"scope", scope}};
    return s.Show("POST", "/api/v1/apikeys", body.dump(), "application/json",
                  [&](const nlohmann::json& j) {
                    s.out << "created " << Cell(j["scope"]) << " API key '" << Cell(j["name"])
                          << "' (id " << Cell(j["id"]) << "); it is shown only this once:\n"
                          << Cell(j["key"]) << "\n";
                  });
  });
}

}  // namespace mdmgw::gateway::cli
