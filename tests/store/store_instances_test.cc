// Several gateway instances on one PostgreSQL, at the store level: each instance is its own Store
// (own connection pool) on the same database, as separate processes would be. Migrations started
// together run once; leases raced for by many threads never go to two holders with one token; the
// pool runs statements side by side and refuses clearly when exhausted; change notices reach the
// other instances only; the LeaseKeeper renews, reports a takeover and releases.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "store/change_feed.h"
#include "store/lease_keeper.h"
#include "store/migrations.h"
#include "store/store.h"
#include "tests/support/postgres_server.h"

namespace mdmgw::store {
namespace {

using namespace std::chrono_literals;

class StoreInstancesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& pg = testing::SharedPostgres();
    if (!pg.running()) {
      if (std::getenv("MDMGW_REQUIRE_POSTGRES") != nullptr) FAIL() << pg.error();
      GTEST_SKIP() << pg.error();
    }
    static std::atomic<int> n{0};
    url_ = pg.CreateDatabase("inst" + std::to_string(::getpid()) + "_" + std::to_string(++n));
  }
  std::unique_ptr<Store> Open(StoreOptions options = {}) {
    auto s = Store::Open(url_, options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::string url_;
};

TEST_F(StoreInstancesTest, InstancesStartingTogetherMigrateOnce) {
  constexpr int kInstances = 6;
  std::vector<std::unique_ptr<Store>> stores(kInstances);
  std::vector<std::string> errors(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      auto s = Store::Open(url_);
      if (s.ok()) {
        stores[i] = std::move(s).value();
      } else {
        errors[i] = s.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kInstances; ++i) ASSERT_NE(stores[i], nullptr) << errors[i];
  auto rows = stores[0]->database().Query("SELECT COUNT(*), MAX(version) FROM schema_migrations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(AsInt(rows->at(0)[0]), static_cast<int64_t>(PostgresMigrations().size()))
      << "each migration recorded once";
  EXPECT_EQ(AsInt(rows->at(0)[1]), PostgresMigrations().back().version);
  std::set<std::string> ids;
  for (auto& s : stores) ids.insert(s->instance_id());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kInstances)) << "every instance has its own id";
}

// Three instances, four threads each, race for one lease: whoever wins checks that the lease is
// still its own (nobody may take a lease that is held and not expired), then lets go so the race
// goes on. A token belongs to one holder, and tokens only grow.
TEST_F(StoreInstancesTest, RacingInstancesNeverShareALease) {
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 3; ++i) stores.push_back(Open());
  std::mutex mu;
  std::map<int64_t, std::string> holder_of_token;
  std::atomic<int> wins{0}, overlaps{0}, errors{0};
  std::vector<std::thread> threads;
  auto until = std::chrono::steady_clock::now() + 1500ms;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      Store& store = *stores[t % 3];
      std::string me = "holder-" + std::to_string(t);
      while (std::chrono::steady_clock::now() < until) {
        auto got = store.AcquireLease("race", me, 5000);
        if (!got.ok()) {
          ++errors;
          continue;
        }
        if (got->holder != me) continue;
        ++wins;
        {
          std::lock_guard lock(mu);
          auto [it, fresh] = holder_of_token.emplace(got->token, me);
          if (!fresh && it->second != me) ++overlaps;
        }
        std::this_thread::sleep_for(2ms);  // the others keep trying meanwhile
        auto still = store.GetLease("race");
        if (!still.ok() || still->holder != me || still->token != got->token) ++overlaps;
        (void)store.ReleaseLease("race", me, got->token);
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(overlaps.load(), 0) << "a held lease was taken, or a token went to two holders";
  EXPECT_GT(wins.load(), 10) << "the lease changed hands";
  EXPECT_EQ(holder_of_token.size(), static_cast<size_t>(wins.load()))
      << "every new holder got a new token";
  auto last = stores[0]->GetLease("race");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->token, holder_of_token.rbegin()->first) << "tokens only grow";
}

// The pool: a statement runs while another thread's transaction is open (one connection would
// have made it wait for the commit), and when every connection is busy the next statement fails
// Unavailable with a message naming the limit, instead of queueing forever.
TEST_F(StoreInstancesTest, PoolRunsStatementsSideBySideAndRefusesWhenExhausted) {
  StoreOptions options;
  options.max_connections = 2;
  options.acquire_timeout = 300ms;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  bool release = false;
  auto hold_transaction = [&] {
    Status s = store->database().Transaction([&]() -> Status {
      auto r = store->database().Query("SELECT 1");  // on this transaction's connection
      if (!r.ok()) return r.status();
      std::unique_lock lock(mu);
      ++inside;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  };
  std::thread first(hold_transaction);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return inside == 1; }));
  }
  EXPECT_TRUE(store->ListApiKeys().ok()) << "runs beside the open transaction";
  std::thread second(hold_transaction);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return inside == 2; }));
  }
  auto refused = store->ListApiKeys();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("all 2 connections"), std::string::npos)
      << refused.status().message();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  second.join();
  EXPECT_TRUE(store->ListApiKeys().ok()) << "usable again once connections are back";
}

// A nested Transaction is part of the outer one: its work is undone with the outer's.
TEST_F(StoreInstancesTest, NestedTransactionsAreOne) {
  auto store = Open();
  ApiKeyRecord key;
  key.id = "k1";
  key.name = "nested";
  key.key_hash = "h1";
  Status s = store->database().Transaction([&]() -> Status {
    MDMGW_RETURN_IF_ERROR(store->CreateApiKey(key));
    MDMGW_RETURN_IF_ERROR(store->database().Transaction([] { return Status::Ok(); }));
    return Status::Internal("undo everything");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(store->FindApiKeyByHash("h1").status().IsNotFound());
}

// Statements are prepared once per connection; a table changed under one by another instance (a
// newer gateway migrating) makes PostgreSQL refuse the old plan, and the statement is prepared
// again instead of failing.
TEST_F(StoreInstancesTest, PreparedStatementsSurviveATableChangedByAnotherInstance) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->database().Exec("CREATE TABLE probe (id BIGINT PRIMARY KEY)").ok());
  ASSERT_TRUE(a->database().Exec("INSERT INTO probe (id) VALUES ($1)", {int64_t{7}}).ok());
  auto before = a->database().Query("SELECT * FROM probe WHERE id = $1", {int64_t{7}});
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->at(0).size(), 1u);
  ASSERT_TRUE(b->database().Exec("ALTER TABLE probe ADD COLUMN note TEXT DEFAULT 'x'").ok());
  auto after = a->database().Query("SELECT * FROM probe WHERE id = $1", {int64_t{7}});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->at(0).size(), 2u) << "the new column is seen";
  EXPECT_EQ(AsText(after->at(0)[1]), "x");
  // The same text with a NULL where an int8 was: prepared apart, both work.
  EXPECT_TRUE(a->database().Query("SELECT * FROM probe WHERE id = $1", {SqlValue{}}).ok());
}

TEST_F(StoreInstancesTest, ChangeNoticesReachTheOtherInstancesOnly) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> heard_by_a, heard_by_b;
  ChangeFeed feed_a(*a), feed_b(*b);
  for (auto topic : {Store::kPushCertTopic, Store::kRoutingTopic}) {
    feed_a.On(topic, [&, topic] {
      std::lock_guard lock(mu);
      ++heard_by_a[std::string(topic)];
      cv.notify_all();
    });
    feed_b.On(topic, [&, topic] {
      std::lock_guard lock(mu);
      ++heard_by_b[std::string(topic)];
      cv.notify_all();
    });
  }
  ASSERT_TRUE(feed_a.Start().ok());
  ASSERT_TRUE(feed_b.Start().ok());

  PushCertRecord cert;
  cert.topic = "com.apple.mgmt.External.x";
  cert.cert_pem = "pem";
  cert.sealed_key = "sealed";
  ASSERT_TRUE(a->PutPushCert(cert).ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return heard_by_b["push_cert"] == 1; }));
  }
  ASSERT_TRUE(b->PutRouting("{}", 1).ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return heard_by_a["routing"] == 1; }));
  }
  // A write rolled back sends nothing.
  Status undone = a->database().Transaction([&]() -> Status {
    MDMGW_RETURN_IF_ERROR(a->PutRouting("{\"x\":1}", 2));
    return Status::Internal("roll back");
  });
  EXPECT_FALSE(undone.ok());
  std::this_thread::sleep_for(300ms);  // room for a notice that must not come
  std::lock_guard lock(mu);
  EXPECT_EQ(heard_by_a["push_cert"], 0) << "an instance does not hear itself";
  EXPECT_EQ(heard_by_b["routing"], 0) << "an instance does not hear itself";
  EXPECT_EQ(heard_by_b["push_cert"], 1);
  EXPECT_EQ(heard_by_a["routing"], 1);
}

TEST_F(StoreInstancesTest, LeaseKeeperRenewsReportsATakeoverAndReleases) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  LeaseKeeper keeper_a(*a, a->instance_id(), 600ms);
  LeaseKeeper keeper_b(*b, b->instance_id(), 600ms);
  auto held = keeper_a.TryAcquire("work");
  ASSERT_TRUE(held.ok());
  ASSERT_NE(*held, nullptr);
  std::string who;
  auto second = keeper_a.TryAcquire("work", &who);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, nullptr) << "not twice in one instance";
  EXPECT_EQ(who, a->instance_id());
  // Held well past its TTL: the keeper renews it, so b never gets it.
  std::this_thread::sleep_for(1500ms);
  auto by_b = keeper_b.TryAcquire("work", &who);
  ASSERT_TRUE(by_b.ok());
  EXPECT_EQ(*by_b, nullptr);
  EXPECT_EQ(who, a->instance_id());
  EXPECT_FALSE((*held)->lost());

  // Taken from under it (an operator's forced takeover, or a pause past the TTL): the keeper
  // notices at its next renewal and marks the lease lost.
  ASSERT_TRUE(a->database().Exec("UPDATE leases SET holder = 'intruder', token = token + 1").ok());
  for (int i = 0; i < 40 && !(*held)->lost(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE((*held)->lost());
  held->reset();

  // Dropping a lease releases it at once: the other instance need not wait for the expiry.
  ASSERT_TRUE(a->database().Exec("UPDATE leases SET expires_at_ms = 0").ok());
  auto fresh = keeper_a.TryAcquire("work");
  ASSERT_TRUE(fresh.ok());
  ASSERT_NE(*fresh, nullptr);
  fresh->reset();
  auto now_b = keeper_b.TryAcquire("work");
  ASSERT_TRUE(now_b.ok());
  EXPECT_NE(*now_b, nullptr) << "released on drop";
}

}  // namespace
}  // namespace mdmgw::store
