// The torch.save reader on archives built byte by byte: what Python's pickler writes for a state dict, and the
// damaged, hostile or unsupported files a user may hand it.
#include "finfuse/formats/torch_save.h"

#include "finfuse/core/error.h"
#include "support/temp_dir.h"

#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

namespace finfuse::formats {
namespace {

// Pickle fragments, protocol 2, as Python's pickler writes them.
std::string text(const std::string& s) {
  std::string out = "X";
  const auto n = static_cast<std::uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  return out + s;
}
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
std::string small_int(int v) { return std::string("K") + static_cast<char>(v); }
std::string tuple1(const std::string& a) { return a + "\x85"; }
const std::string kFalse = "\x89";

// _rebuild_tensor_v2(('storage', torch.FloatStorage, key, 'cpu', numel), offset, (size,), (1,), False, OrderedDict())
std::string tensor(const std::string& key, int numel, int offset, int size) {
  const std::string storage = "(" + text("storage") + global("torch", "FloatStorage") + text(key) + text("cpu") +
                              small_int(numel) + "tQ";
  return global("torch._utils", "_rebuild_tensor_v2") + "(" + storage + small_int(offset) + tuple1(small_int(size)) +
         tuple1(small_int(1)) + kFalse + global("collections", "OrderedDict") + ")R" + "tR";
}

// An OrderedDict {"weight": tensor} with a _metadata state, as state_dict() is pickled.
std::string state_dict(const std::string& tensor_pickle) {
  return std::string("\x80\x02", 2) + global("collections", "OrderedDict") + ")R(" + text("weight") + tensor_pickle +
         "u}" + text("_metadata") + "}sb.";
}

std::string floats(std::initializer_list<float> values) {
  std::string out;
  for (const float v : values) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(float));
  }
  return out;
}

class TorchSaveTest : public ::testing::Test {
 protected:
  std::filesystem::path archive(const std::string& pickle, const std::map<std::string, std::string>& records,
                                const std::string& name = "archive") {
    const auto path = dir_ / (name + ".pth");
    caffe2::serialize::PyTorchStreamWriter writer(path.string());
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    for (const auto& [record, bytes] : records) {
      writer.writeRecord(record, bytes.data(), bytes.size());
    }
    writer.writeEndOfFile();
    return path;
  }

  void expect_data_error(const std::filesystem::path& path, const std::string& fragment) {
    try {
      read_torch_save(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const DataError& e) {
      EXPECT_EQ(e.file(), path.string());
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }

  void SetUp() override { dir_ = finfuse::testing::unique_temp_dir("finfuse_torch_save"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(TorchSaveTest, ReadsAnOrderedDictStateDict) {
  const auto value = read_torch_save(archive(state_dict(tensor("0", 3, 0, 3)), {{"data/0", floats({1, 2, 3})}}));
  ASSERT_TRUE(value.isGenericDict());
  const auto dict = value.toGenericDict();
  ASSERT_EQ(dict.size(), 1U) << "the _metadata attribute is not an entry";
  EXPECT_TRUE(torch::equal(dict.at(c10::IValue(std::string("weight"))).toTensor(), torch::tensor({1.0F, 2.0F, 3.0F})));
}

TEST_F(TorchSaveTest, ViewsStayInsideTheirStorage) {
  const auto value = read_torch_save(archive(state_dict(tensor("0", 3, 1, 2)), {{"data/0", floats({1, 2, 3})}}));
  EXPECT_TRUE(torch::equal(value.toGenericDict().at(c10::IValue(std::string("weight"))).toTensor(),
                           torch::tensor({2.0F, 3.0F})));
  expect_data_error(archive(state_dict(tensor("0", 3, 1, 3)), {{"data/0", floats({1, 2, 3})}}, "overrun"),
                    "reaches element 3 of a storage of 3");
}

TEST_F(TorchSaveTest, RecordsMustMatchTheirStorage) {
  expect_data_error(archive(state_dict(tensor("0", 3, 0, 3)), {{"data/0", floats({1, 2})}}),
                    "record data/0 has 8 bytes but its storage of 3 Float needs 12");
  expect_data_error(archive(state_dict(tensor("0", 3, 0, 3)), {}, "missing"), "no record data/0");
}

TEST_F(TorchSaveTest, RefusesToRunOtherPythonObjects) {
  const std::string pickle = std::string("\x80\x02", 2) + global("os", "system") + "(" + text("rm -rf /") + "tR.";
  expect_data_error(archive(pickle, {}), "os.system");
}

TEST_F(TorchSaveTest, DamagedPicklesAreReportedWithTheirPosition) {
  const std::string whole = state_dict(tensor("0", 3, 0, 3));
  expect_data_error(archive(whole.substr(0, whole.size() / 2), {{"data/0", floats({1, 2, 3})}}), "at byte");
  expect_data_error(archive(std::string("\x80\x02R.", 4), {}, "underflow"), "stack is empty");
  expect_data_error(archive(std::string("\x80\x02\xff.", 4), {}, "opcode"), "unknown pickle opcode 0xff");
  expect_data_error(archive(std::string("\x80\x02h\x05.", 5), {}, "memo"), "memo entry 5");
  expect_data_error(archive(std::string("\x80\x02N}.", 5), {}, "leftover"), "2 objects on its stack");
  // A list that holds itself.
  expect_data_error(archive(std::string("\x80\x02]q\x00h\x00" "a.", 9), {}, "cycle"), "nested more than");
}

TEST_F(TorchSaveTest, OtherFormatsGetAClearMessage) {
  const auto legacy = dir_ / "legacy.pt";
  std::ofstream(legacy, std::ios::binary) << std::string("\x80\x02\x8a\x0a", 4) << "rest";
  expect_data_error(legacy, "legacy torch.save format");
  const auto junk = dir_ / "junk.pt";
  std::ofstream(junk, std::ios::binary) << "hello";
  expect_data_error(junk, "expected a zip archive");
  const auto cut = dir_ / "cut.pt";
  {
    std::ifstream in(archive(state_dict(tensor("0", 3, 0, 3)), {{"data/0", floats({1, 2, 3})}}, "whole"),
                     std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  EXPECT_THROW(read_torch_save(cut), DataError);
  EXPECT_THROW(read_torch_save(dir_ / "absent.pt"), IoError);
  EXPECT_THROW(read_torch_save(dir_), IoError);
}

}  // namespace
}  // namespace finfuse::formats
