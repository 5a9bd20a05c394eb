#include "common/secret_box.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/encoding.h"
#include "common/random.h"
#include "fixtures/pki/test_pki.h"

namespace mdmgw {
namespace {

SecretBox NewBox() { return SecretBox::FromKey(Secret<std::string>(RandomBytes(32))).value(); }

TEST(SecretBoxTest, SealThenOpenReturnsThePlaintext) {
  SecretBox box = NewBox();
  static constexpr char kPlain[] = "push key \0 with NUL and \xff bytes";
  std::string plain(kPlain, sizeof(kPlain) - 1);
  std::string sealed = box.Seal(plain, "apns.key:topic");
  EXPECT_EQ(sealed.size(), 1 + 12 + plain.size() + 16);
  EXPECT_EQ(sealed.find("push key"), std::string::npos) << "plaintext visible in sealed bytes";
  auto opened = box.Open(sealed, "apns.key:topic");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->Expose(), plain);
}

TEST(SecretBoxTest, SealingTwiceUsesFreshNonces) {
  SecretBox box = NewBox();
  EXPECT_NE(box.Seal("same", "aad"), box.Seal("same", "aad"));
}

TEST(SecretBoxTest, EveryFlippedByteIsDetected) {
  SecretBox box = NewBox();
  std::string sealed = box.Seal("secret value", "ctx");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    auto opened = box.Open(tampered, "ctx");
    ASSERT_FALSE(opened.ok()) << "flip at byte " << i << " was not detected";
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  }
}

TEST(SecretBoxTest, TruncatedOrExtendedIsDetected) {
  SecretBox box = NewBox();
  std::string sealed = box.Seal("secret value", "ctx");
  EXPECT_FALSE(box.Open(sealed.substr(0, sealed.size() - 1), "ctx").ok());
  EXPECT_FALSE(box.Open(sealed + "x", "ctx").ok());
  EXPECT_FALSE(box.Open("", "ctx").ok());
  EXPECT_FALSE(box.Open(sealed.substr(0, 20), "ctx").ok());
}

TEST(SecretBoxTest, WrongKeyOrContextFails) {
  SecretBox box = NewBox();
  std::string sealed = box.Seal("secret value", "apns.key:A");
  EXPECT_FALSE(NewBox().Open(sealed, "apns.key:A").ok());
  EXPECT_FALSE(box.Open(sealed, "apns.key:B").ok());
}

TEST(SecretBoxTest, KeyMustBe32Bytes) {
  EXPECT_FALSE(SecretBox::FromKey(Secret<std::string>(RandomBytes(31))).ok());
  EXPECT_FALSE(SecretBox::FromBase64("not base64 !!").ok());
  EXPECT_TRUE(SecretBox::FromBase64(Base64Encode(RandomBytes(32))).ok());
}

TEST(MasterKeyTest, CreatesA0600KeyFileOnceAndReusesIt) {
  testing::TempDir dir;
  auto first = LoadOrCreateMasterKey(dir.path(), "");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string sealed = first->box.Seal("value", "ctx");

  auto second = LoadOrCreateMasterKey(dir.path(), "");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  auto opened = second->box.Open(sealed, "ctx");
  ASSERT_TRUE(opened.ok()) << "the reloaded key must open what the first sealed";
  EXPECT_EQ(opened->Expose(), "value");
}

TEST(MasterKeyTest, EnvironmentKeyWinsOverTheFile) {
  testing::TempDir dir;
  std::string raw = RandomBytes(32);
  auto from_env = LoadOrCreateMasterKey(dir.path(), Base64Encode(raw));
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->origin, "environment");
  struct stat st {};
  EXPECT_NE(::stat(dir.File("master.key").c_str(), &st), 0)
      << "no key file when the env key is used";
  EXPECT_FALSE(LoadOrCreateMasterKey(dir.path(), "too-short").ok());
}

TEST(MasterKeyTest, RefusesAKeyFileReadableByOthers) {
  testing::TempDir dir;
  ASSERT_TRUE(LoadOrCreateMasterKey(dir.path(), "").ok());
  ::chmod(dir.File("master.key").c_str(), 0644);
  auto loaded = LoadOrCreateMasterKey(dir.path(), "");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
}

}  // namespace
}  // namespace mdmgw
