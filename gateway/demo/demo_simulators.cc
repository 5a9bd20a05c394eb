#include "gateway/demo/demo_simulators.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mdmgw::gateway::demo {
namespace fs = std::filesystem;

namespace {

bool Executable(const fs::path& p) {
  std::error_code ec;
  auto st = fs::status(p, ec);
  return !ec && fs::is_regular_file(st) &&
         (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
}

// <dir>/<name>/<name> or <dir>/<name>, "" when neither.
std::string FindIn(const fs::path& dir, const std::string& name) {
  if (Executable(dir / name / name)) return (dir / name / name).string();
  if (Executable(dir / name)) return (dir / name).string();
  return "";
}

}  // namespace

Result<SimulatorPaths> FindSimulators(const std::string& sim_dir) {
  std::vector<fs::path> places;
  if (!sim_dir.empty()) places.emplace_back(sim_dir);
  if (const char* env = std::getenv("MDMGW_SIM_DIR"); env != nullptr && *env != '\0')
    places.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    places.push_back(exe.parent_path().parent_path() / "fixtures");
    places.push_back(exe.parent_path());
  }
#ifdef MDMGW_BUILD_FIXTURES_DIR
  places.emplace_back(MDMGW_BUILD_FIXTURES_DIR);
#endif
  std::string looked;
  for (const auto& dir : places) {
    SimulatorPaths p{FindIn(dir, "apns-sim"), FindIn(dir, "dep-sim"), FindIn(dir, "device-sim"),
                     FindIn(dir, "mdm-core-stub")};
    if (!p.apns_sim.empty() && !p.dep_sim.empty() && !p.device_sim.empty() && !p.core_stub.empty())
      return p;
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  return Status::NotFound(
      "the simulators (apns-sim, dep-sim, device-sim, mdm-core-stub) are not built; looked in " +
          looked + " (build them with scripts/build release, or give --sim-dir)",
      "simulators_missing");
}

Result<RunningSimulator> StartSimulator(const std::vector<std::string>& argv,
                                        const std::string& log_file) {
  RunningSimulator sim;
  sim.process = std::make_unique<ChildProcess>(argv, log_file);
  std::string name = fs::path(argv.at(0)).filename().string();
  if (!sim.process->ok()) return Status::Unavailable("cannot start " + name, "simulator_failed");
  auto doc = nlohmann::json::parse(sim.process->ReadLine(std::chrono::seconds(15)), nullptr, false);
  if (doc.is_object() && doc.contains("listening") && doc["listening"].is_number_unsigned())
    sim.port = doc["listening"].get<uint16_t>();
  if (sim.port == 0) {
    sim.process->Stop(std::chrono::seconds(1));
    std::string why = LastLine(log_file);
    return Status::Unavailable(
        name + " did not start" + (why.empty() ? "" : ": " + why) + " (log: " + log_file + ")",
        "simulator_failed");
  }
  return sim;
}

ToolRun RunTool(const std::vector<std::string>& argv, const std::string& log_file,
                std::chrono::seconds timeout) {
  ToolRun run;
  ChildProcess child(argv, log_file);
  if (!child.ok()) return run;
  run.out = child.ReadToEnd(timeout);
  run.exit_status = child.Wait(std::chrono::seconds(5));
  return run;
}

std::string LastLine(const std::string& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace mdmgw::gateway::demo
