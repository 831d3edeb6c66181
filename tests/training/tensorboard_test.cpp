#include "finfuse/training/tensorboard.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace finfuse::training {
namespace {

std::uint32_t unmask(std::uint32_t masked) {
  const std::uint32_t rotated = masked - 0xa282ead8U;
  return (rotated >> 17) | (rotated << 15);
}

// The records of a TFRecord file, each checked against its two CRCs.
std::vector<std::string> read_records(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    EXPECT_LE(at + 12, bytes.size());
    std::uint64_t length = 0;
    std::uint32_t length_crc = 0;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&length_crc, bytes.data() + at + 8, 4);
    EXPECT_EQ(unmask(length_crc), crc32c(bytes.data() + at, 8));
    const std::string payload = bytes.substr(at + 12, length);
    std::uint32_t data_crc = 0;
    std::memcpy(&data_crc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(unmask(data_crc), crc32c(payload.data(), payload.size()));
    out.push_back(payload);
    at += 12 + length + 4;
  }
  return out;
}

TEST(TensorBoard, Crc32cOfTheStandardCheckValue) {
  // The check value of CRC-32C (RFC 3720, appendix B.4): "123456789" -> 0xE3069283; 32 zero bytes -> 0x8A9136AA.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283U);
  const std::vector<char> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAU);
}

TEST(TensorBoard, EventsAreFramedAndEncodedAsTensorBoardReadsThem) {
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_tensorboard_test";
  std::filesystem::remove_all(dir);
  std::filesystem::path file;
  {
    TensorBoardWriter writer(dir);
    file = writer.file();
    EXPECT_NE(file.filename().string().find("events.out.tfevents."), std::string::npos);
    writer.add_scalar("epoch/valid.mcc", 0.25, 3, 1000.5);
    writer.add_session_end(true);
    EXPECT_EQ(writer.records(), 3);
  }
  const auto records = read_records(file);
  ASSERT_EQ(records.size(), 3U);
  // The file-version event: wall_time (field 1, fixed64) then file_version (field 3) "brain.Event:2".
  EXPECT_EQ(records[0][0], '\x09');
  EXPECT_EQ(records[0].substr(9), std::string("\x1a\x0d", 2) + "brain.Event:2");
  // The scalar, byte by byte: Event{wall_time 1000.5, step 3, summary {value {tag, simple_value 0.25f}}}.
  std::string expected("\x09", 1);
  const double wall = 1000.5;
  expected.append(reinterpret_cast<const char*>(&wall), 8);
  expected += std::string("\x10\x03", 2);                       // step = 3
  const std::string tag = "epoch/valid.mcc";
  std::string value = std::string("\x0a", 1) + static_cast<char>(tag.size()) + tag;
  const float simple = 0.25F;
  value += std::string("\x15", 1) + std::string(reinterpret_cast<const char*>(&simple), 4);
  const std::string summary = std::string("\x0a", 1) + static_cast<char>(value.size()) + value;
  expected += std::string("\x2a", 1) + static_cast<char>(summary.size()) + summary;
  EXPECT_EQ(records[1], expected);
  // The HParams session end names the plugin.
  EXPECT_NE(records[2].find("_hparams_/session_end_info"), std::string::npos);
  EXPECT_NE(records[2].find("hparams"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(TensorBoard, HyperParametersAreFlattenedScalars) {
  const auto flat = flatten_hparams(Json::parse(R"({"training": {"optimizer": {"type": "adamw", "lr": 0.001},
                                                                  "epochs": 3, "amp": false, "metrics": [],
                                                                  "l2": [{"params": ["heads.*"], "weight": 1.0}]},
                                                     "model": {"fusion": null}})"));
  EXPECT_EQ(flat.at("training/optimizer/type"), "adamw");
  EXPECT_EQ(flat.at("training/optimizer/lr"), 0.001);
  EXPECT_EQ(flat.at("training/epochs"), 3);
  EXPECT_EQ(flat.at("training/amp"), false);
  EXPECT_EQ(flat.at("training/l2"), R"([{"params":["heads.*"],"weight":1.0}])");
  EXPECT_EQ(flat.count("training/metrics"), 0U);  // empty lists and nulls say nothing
  EXPECT_EQ(flat.count("model/fusion"), 0U);
}

}  // namespace
}  // namespace finfuse::training
