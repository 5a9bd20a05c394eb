#include "common/metrics.h"

#include <cmath>
#include <cstdio>

namespace mdmgw::metrics {
namespace {

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.15g", v);
  }
  return buf;
}

std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!out.empty()) out += ",";
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!out.empty()) out += ",";
    out += extra_name + "=\"" + extra_value + "\"";
  }
  return out.empty() ? "" : "{" + out + "}";
}

template <typename M>
std::unique_ptr<M> MakeMetric(const std::vector<double>&) {
  return std::make_unique<M>();
}
template <>
std::unique_ptr<Histogram> MakeMetric<Histogram>(const std::vector<double>& bounds) {
  return std::make_unique<Histogram>(bounds);
}

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

template <typename M>
M& Family<M>::WithLabels(const std::vector<std::string>& values) {
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = children_[values];
  if (!slot) slot = MakeMetric<M>(bounds_);
  return *slot;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  counters_.push_back(
      std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels)));
  return *counters_.back();
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  gauges_.push_back(
      std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels)));
  return *gauges_.back();
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<double> bounds,
                                          std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  histograms_.push_back(std::make_unique<Family<Histogram>>(std::move(name), std::move(help),
                                                            std::move(labels), std::move(bounds)));
  return *histograms_.back();
}

std::string Registry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  auto header = [&out](const std::string& name, const std::string& help, const char* type) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  for (const auto& f : counters_) {
    header(f->name(), f->help(), "counter");
    f->ForEach([&](const std::vector<std::string>& labels, const Counter& c) {
      out += f->name() + LabelSet(f->label_names(), labels) + " " + FormatNumber(c.Value()) + "\n";
    });
  }
  for (const auto& f : gauges_) {
    header(f->name(), f->help(), "gauge");
    f->ForEach([&](const std::vector<std::string>& labels, const Gauge& g) {
      out += f->name() + LabelSet(f->label_names(), labels) + " " + FormatNumber(g.Value()) + "\n";
    });
  }
  for (const auto& f : histograms_) {
    header(f->name(), f->help(), "histogram");
    f->ForEach([&](const std::vector<std::string>& labels, const Histogram& h) {
      auto counts = h.CumulativeCounts();
      for (size_t i = 0; i < counts.size(); ++i) {
        std::string le = i < h.bounds().size() ? FormatNumber(h.bounds()[i]) : "+Inf";
        out += f->name() + "_bucket" + LabelSet(f->label_names(), labels, "le", le) + " " +
               std::to_string(counts[i]) + "\n";
      }
      out += f->name() + "_sum" + LabelSet(f->label_names(), labels) + " " + FormatNumber(h.Sum()) +
             "\n";
      out += f->name() + "_count" + LabelSet(f->label_names(), labels) + " " +
             std::to_string(h.Count()) + "\n";
    });
  }
  return out;
}

}  // namespace mdmgw::metrics
