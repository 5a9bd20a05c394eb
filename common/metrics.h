// Metrics registry with Prometheus text exposition (format 0.0.4). Written here because Debian 12
// has no prometheus-cpp package; the format is small (DESIGN §9).
//
// Families are created once at start-up (Registry::Counter/Gauge/Histogram); label children are
// made on first use and live as long as the registry, so hot paths may cache the returned
// references. Thread-safety: all operations are thread-safe; increments are lock-free atomics.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace mdmgw::metrics {

class Counter {
 public:
  void Inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double v);
  // Cumulative counts per bound, then +Inf.
  std::vector<uint64_t> CumulativeCounts() const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// A named metric with a fixed list of label names; children per label-value tuple.
template <typename M>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // REQUIRES: values.size() == label names' size.
  M& WithLabels(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Visits children in label order (stable output).
  template <typename Fn>
  void ForEach(Fn fn) const {
    std::shared_lock lock(mu_);
    for (const auto& [labels, metric] : children_) fn(labels, *metric);
  }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;  // GUARDED_BY(mu_)
};

class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                                  std::vector<std::string> labels = {});

  // The whole registry in Prometheus text format.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;      // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;          // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;  // GUARDED_BY(mu_)
};

// Escapes a label value per the exposition format (backslash, quote, newline).
std::string EscapeLabelValue(const std::string& v);

}  // namespace mdmgw::metrics
