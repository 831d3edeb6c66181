#include "finfuse/formats/torch_save.h"

#include "finfuse/core/error.h"
#include "finfuse/core/shape.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::formats {
namespace {

// The pickle opcodes that Python's pickler emits for protocols 2 to 5 (torch.save writes protocol 2 unless asked).
namespace op {
constexpr unsigned char kMark = '(';
constexpr unsigned char kStop = '.';
constexpr unsigned char kPop = '0';
constexpr unsigned char kPopMark = '1';
constexpr unsigned char kDup = '2';
constexpr unsigned char kFloat = 'F';
constexpr unsigned char kInt = 'I';
constexpr unsigned char kBinInt = 'J';
constexpr unsigned char kBinInt1 = 'K';
constexpr unsigned char kLong = 'L';
constexpr unsigned char kBinInt2 = 'M';
constexpr unsigned char kNone = 'N';
constexpr unsigned char kBinPersId = 'Q';
constexpr unsigned char kReduce = 'R';
constexpr unsigned char kString = 'S';
constexpr unsigned char kBinString = 'T';
constexpr unsigned char kShortBinString = 'U';
constexpr unsigned char kUnicode = 'V';
constexpr unsigned char kBinUnicode = 'X';
constexpr unsigned char kAppend = 'a';
constexpr unsigned char kBuild = 'b';
constexpr unsigned char kGlobal = 'c';
constexpr unsigned char kDict = 'd';
constexpr unsigned char kEmptyDict = '}';
constexpr unsigned char kAppends = 'e';
constexpr unsigned char kGet = 'g';
constexpr unsigned char kBinGet = 'h';
constexpr unsigned char kLongBinGet = 'j';
constexpr unsigned char kList = 'l';
constexpr unsigned char kEmptyList = ']';
constexpr unsigned char kPut = 'p';
constexpr unsigned char kBinPut = 'q';
constexpr unsigned char kLongBinPut = 'r';
constexpr unsigned char kSetItem = 's';
constexpr unsigned char kTuple = 't';
constexpr unsigned char kEmptyTuple = ')';
constexpr unsigned char kSetItems = 'u';
constexpr unsigned char kBinFloat = 'G';
constexpr unsigned char kProto = 0x80;
constexpr unsigned char kNewObj = 0x81;
constexpr unsigned char kTuple1 = 0x85;
constexpr unsigned char kTuple2 = 0x86;
constexpr unsigned char kTuple3 = 0x87;
constexpr unsigned char kNewTrue = 0x88;
constexpr unsigned char kNewFalse = 0x89;
constexpr unsigned char kLong1 = 0x8a;
constexpr unsigned char kLong4 = 0x8b;
constexpr unsigned char kBinBytes = 'B';
constexpr unsigned char kShortBinBytes = 'C';
constexpr unsigned char kShortBinUnicode = 0x8c;
constexpr unsigned char kBinUnicode8 = 0x8d;
constexpr unsigned char kBinBytes8 = 0x8e;
constexpr unsigned char kEmptySet = 0x8f;
constexpr unsigned char kAddItems = 0x90;
constexpr unsigned char kFrozenSet = 0x91;
constexpr unsigned char kStackGlobal = 0x93;
constexpr unsigned char kMemoize = 0x94;
constexpr unsigned char kFrame = 0x95;
}  // namespace op

// A Python object as the interpreter sees it. Lists and dicts are shared through the memo, so they are held by
// pointer and mutated in place, as Python does.
struct Object;
using ObjectPtr = std::shared_ptr<Object>;

struct Object {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kTensor, kStorage };
  Kind kind = Kind::kNone;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;  // string, bytes, or "module.name" of a global
  std::vector<ObjectPtr> items;
  std::vector<std::pair<ObjectPtr, ObjectPtr>> entries;
  at::Tensor tensor;  // a tensor, or a storage as a flat tensor of its dtype
};

const char* kind_name(Object::Kind kind) {
  switch (kind) {
    case Object::Kind::kNone: return "None";
    case Object::Kind::kBool: return "bool";
    case Object::Kind::kInt: return "int";
    case Object::Kind::kFloat: return "float";
    case Object::Kind::kString: return "str";
    case Object::Kind::kBytes: return "bytes";
    case Object::Kind::kTuple: return "tuple";
    case Object::Kind::kList: return "list";
    case Object::Kind::kDict: return "dict";
    case Object::Kind::kGlobal: return "class or function";
    case Object::Kind::kTensor: return "tensor";
    case Object::Kind::kStorage: return "storage";
  }
  return "object";
}

ObjectPtr make(Object::Kind kind) {
  auto object = std::make_shared<Object>();
  object->kind = kind;
  return object;
}

ObjectPtr make_int(std::int64_t value) {
  auto object = make(Object::Kind::kInt);
  object->integer = value;
  return object;
}

ObjectPtr make_text(Object::Kind kind, std::string text) {
  auto object = make(kind);
  object->text = std::move(text);
  return object;
}

ObjectPtr make_tuple(std::vector<ObjectPtr> items) {
  auto object = make(Object::Kind::kTuple);
  object->items = std::move(items);
  return object;
}

const std::map<std::string, c10::ScalarType>& storage_types() {
  static const std::map<std::string, c10::ScalarType> types = {
      {"FloatStorage", at::kFloat},         {"DoubleStorage", at::kDouble},
      {"HalfStorage", at::kHalf},           {"BFloat16Storage", at::kBFloat16},
      {"LongStorage", at::kLong},           {"IntStorage", at::kInt},
      {"ShortStorage", at::kShort},         {"CharStorage", at::kChar},
      {"ByteStorage", at::kByte},           {"BoolStorage", at::kBool},
      {"ComplexFloatStorage", at::kComplexFloat}, {"ComplexDoubleStorage", at::kComplexDouble},
      {"UntypedStorage", at::kByte}};
  return types;
}

class Interpreter {
 public:
  Interpreter(std::string file, caffe2::serialize::PyTorchStreamReader& archive, const char* data, std::size_t size)
      : file_(std::move(file)), archive_(archive), data_(data), size_(size) {}

  ObjectPtr run() {
    while (true) {
      const std::size_t at = pos_;
      const unsigned char code = byte();
      try {
        if (code == op::kStop) {
          if (stack_.size() != 1) {
            fail(at, fmt::format("the pickle ends with {} objects on its stack instead of 1", stack_.size()));
          }
          if (!stack_.back()) {
            fail(at, "the pickle ends with a mark instead of an object");
          }
          return stack_.back();
        }
        step(code, at);
      } catch (const DataError&) {
        throw;
      } catch (const c10::Error& e) {
        fail(at, e.what_without_backtrace());
      } catch (const std::exception& e) {
        fail(at, e.what());
      }
    }
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& reason) const {
    throw DataError(file_, 0, "data.pkl", fmt::format("at byte {} of the pickle: {}", at, reason));
  }

  void need(std::size_t n) const {
    if (n > size_ - pos_) {
      fail(pos_, fmt::format("the pickle is cut short (needs {} more bytes, {} left)", n, size_ - pos_));
    }
  }

  unsigned char byte() {
    need(1);
    return static_cast<unsigned char>(data_[pos_++]);
  }

  std::uint64_t little_endian(std::size_t n) {
    need(n);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < n; ++i) {
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += n;
    return value;
  }

  std::string bytes(std::uint64_t n) {
    if (n > size_ - pos_) {
      fail(pos_, fmt::format("a string claims {} bytes but the pickle has {} left", n, size_ - pos_));
    }
    std::string out(data_ + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  std::string line() {
    const auto* begin = data_ + pos_;
    const auto* end = static_cast<const char*>(std::memchr(begin, '\n', size_ - pos_));
    if (end == nullptr) {
      fail(pos_, "a text argument has no end of line");
    }
    std::string out(begin, end);
    pos_ += out.size() + 1;
    return out;
  }

  ObjectPtr pop() {
    if (stack_.empty()) {
      fail(pos_, "an opcode needs an object but the stack is empty");
    }
    auto top = stack_.back();
    stack_.pop_back();
    if (!top) {
      fail(pos_, "an opcode found a mark where it needs an object");
    }
    return top;
  }

  ObjectPtr& top() {
    if (stack_.empty() || !stack_.back()) {
      fail(pos_, "an opcode needs an object but the stack is empty");
    }
    return stack_.back();
  }

  // Pops everything above the newest mark (a null entry on the stack) and the mark itself.
  std::vector<ObjectPtr> pop_mark() {
    std::size_t mark = stack_.size();
    while (mark > 0 && stack_[mark - 1]) {
      --mark;
    }
    if (mark == 0) {
      fail(pos_, "an opcode needs a mark but there is none");
    }
    std::vector<ObjectPtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark - 1);
    return items;
  }

  void memo_put(std::uint64_t key) { memo_[key] = top(); }

  void memo_get(std::uint64_t key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) {
      fail(pos_, fmt::format("memo entry {} is read before it is written", key));
    }
    stack_.push_back(it->second);
  }

  void set_items(const ObjectPtr& dict, const std::vector<ObjectPtr>& items) {
    if (dict->kind != Object::Kind::kDict) {
      fail(pos_, fmt::format("SETITEMS on a {}", kind_name(dict->kind)));
    }
    if (items.size() % 2 != 0) {
      fail(pos_, "SETITEMS with an odd number of objects");
    }
    for (std::size_t i = 0; i < items.size(); i += 2) {
      dict->entries.emplace_back(items[i], items[i + 1]);
    }
  }

  void append(const ObjectPtr& list, const std::vector<ObjectPtr>& items) {
    if (list->kind != Object::Kind::kList) {
      fail(pos_, fmt::format("APPENDS on a {}", kind_name(list->kind)));
    }
    list->items.insert(list->items.end(), items.begin(), items.end());
  }

  void step(unsigned char code, std::size_t at) {
    switch (code) {
      case op::kProto: {
        const auto version = byte();
        if (version > 5) {
          fail(at, fmt::format("pickle protocol {} is newer than 5", version));
        }
        return;
      }
      case op::kFrame: little_endian(8); return;
      case op::kMark: stack_.push_back(nullptr); return;
      case op::kPop: pop(); return;
      case op::kPopMark: pop_mark(); return;
      case op::kDup: stack_.push_back(top()); return;
      case op::kNone: stack_.push_back(make(Object::Kind::kNone)); return;
      case op::kNewTrue:
      case op::kNewFalse: {
        auto object = make(Object::Kind::kBool);
        object->boolean = code == op::kNewTrue;
        stack_.push_back(object);
        return;
      }
      case op::kBinInt: stack_.push_back(make_int(static_cast<std::int32_t>(little_endian(4)))); return;
      case op::kBinInt1: stack_.push_back(make_int(static_cast<std::int64_t>(little_endian(1)))); return;
      case op::kBinInt2: stack_.push_back(make_int(static_cast<std::int64_t>(little_endian(2)))); return;
      case op::kLong1:
      case op::kLong4: {
        const auto n = code == op::kLong1 ? little_endian(1) : little_endian(4);
        if (n > 8) {
          fail(at, fmt::format("an integer of {} bytes does not fit in 64 bits", n));
        }
        std::uint64_t value = n == 0 ? 0 : little_endian(static_cast<std::size_t>(n));
        if (n > 0 && n < 8 && (value >> (8 * n - 1)) != 0) {
          value |= ~std::uint64_t{0} << (8 * n);  // sign-extend
        }
        stack_.push_back(make_int(static_cast<std::int64_t>(value)));
        return;
      }
      case op::kInt:
      case op::kLong: {
        auto text = line();
        if (!text.empty() && text.back() == 'L') {
          text.pop_back();
        }
        if (text == "00" || text == "01") {  // protocol 0 booleans
          auto object = make(Object::Kind::kBool);
          object->boolean = text == "01";
          stack_.push_back(object);
          return;
        }
        try {
          std::size_t used = 0;
          const auto value = std::stoll(text, &used);
          if (used != text.size()) {
            throw std::invalid_argument(text);
          }
          stack_.push_back(make_int(value));
        } catch (const std::exception&) {
          fail(at, fmt::format("'{}' is not a 64-bit integer", text));
        }
        return;
      }
      case op::kBinFloat: {
        need(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) {
          bits = (bits << 8) | static_cast<unsigned char>(data_[pos_ + static_cast<std::size_t>(i)]);  // big-endian
        }
        pos_ += 8;
        auto object = make(Object::Kind::kFloat);
        std::memcpy(&object->real, &bits, sizeof(double));
        stack_.push_back(object);
        return;
      }
      case op::kFloat: {
        const auto text = line();
        auto object = make(Object::Kind::kFloat);
        try {
          object->real = std::stod(text);
        } catch (const std::exception&) {
          fail(at, fmt::format("'{}' is not a number", text));
        }
        stack_.push_back(object);
        return;
      }
      case op::kBinUnicode: stack_.push_back(make_text(Object::Kind::kString, bytes(little_endian(4)))); return;
      case op::kShortBinUnicode: stack_.push_back(make_text(Object::Kind::kString, bytes(little_endian(1)))); return;
      case op::kBinUnicode8: stack_.push_back(make_text(Object::Kind::kString, bytes(little_endian(8)))); return;
      case op::kBinString: stack_.push_back(make_text(Object::Kind::kString, bytes(little_endian(4)))); return;
      case op::kShortBinString: stack_.push_back(make_text(Object::Kind::kString, bytes(little_endian(1)))); return;
      case op::kBinBytes: stack_.push_back(make_text(Object::Kind::kBytes, bytes(little_endian(4)))); return;
      case op::kShortBinBytes: stack_.push_back(make_text(Object::Kind::kBytes, bytes(little_endian(1)))); return;
      case op::kBinBytes8: stack_.push_back(make_text(Object::Kind::kBytes, bytes(little_endian(8)))); return;
      case op::kString:
      case op::kUnicode: fail(at, "text-mode (protocol 0) strings are not supported; torch.save writes protocol 2");
      case op::kEmptyTuple: stack_.push_back(make_tuple({})); return;
      case op::kTuple: stack_.push_back(make_tuple(pop_mark())); return;
      case op::kTuple1:
      case op::kTuple2:
      case op::kTuple3: {
        const std::size_t n = static_cast<std::size_t>(code - op::kTuple1 + 1);
        std::vector<ObjectPtr> items(n);
        for (std::size_t i = n; i-- > 0;) {
          items[i] = pop();
        }
        stack_.push_back(make_tuple(std::move(items)));
        return;
      }
      case op::kEmptyList: stack_.push_back(make(Object::Kind::kList)); return;
      case op::kList: {
        auto list = make(Object::Kind::kList);
        list->items = pop_mark();
        stack_.push_back(list);
        return;
      }
      case op::kAppend: {
        auto item = pop();
        append(top(), {item});
        return;
      }
      case op::kAppends: {
        auto items = pop_mark();
        append(top(), items);
        return;
      }
      case op::kEmptyDict: stack_.push_back(make(Object::Kind::kDict)); return;
      case op::kDict: {
        auto dict = make(Object::Kind::kDict);
        set_items(dict, pop_mark());
        stack_.push_back(dict);
        return;
      }
      case op::kSetItem: {
        auto value = pop();
        auto key = pop();
        set_items(top(), {key, value});
        return;
      }
      case op::kSetItems: {
        auto items = pop_mark();
        set_items(top(), items);
        return;
      }
      case op::kEmptySet:
      case op::kAddItems:
      case op::kFrozenSet: fail(at, "Python sets are not part of a state dict");
      case op::kPut: memo_put(std::stoull(line())); return;
      case op::kBinPut: memo_put(little_endian(1)); return;
      case op::kLongBinPut: memo_put(little_endian(4)); return;
      case op::kMemoize: memo_put(memo_.size()); return;
      case op::kGet: memo_get(std::stoull(line())); return;
      case op::kBinGet: memo_get(little_endian(1)); return;
      case op::kLongBinGet: memo_get(little_endian(4)); return;
      case op::kGlobal: {
        auto module = line();
        auto name = line();
        stack_.push_back(make_text(Object::Kind::kGlobal, module + "." + name));
        return;
      }
      case op::kStackGlobal: {
        auto name = pop();
        auto module = pop();
        if (name->kind != Object::Kind::kString || module->kind != Object::Kind::kString) {
          fail(at, "STACK_GLOBAL needs a module and a name");
        }
        stack_.push_back(make_text(Object::Kind::kGlobal, module->text + "." + name->text));
        return;
      }
      case op::kReduce: {
        auto args = pop();
        auto callable = pop();
        stack_.push_back(call(callable, args, at));
        return;
      }
      case op::kNewObj: {
        auto args = pop();
        auto cls = pop();
        stack_.push_back(call(cls, args, at));
        return;
      }
      case op::kBuild: {
        auto state = pop();
        const auto& object = top();
        // The only state torch.save writes for the objects rebuilt here is an OrderedDict's attributes (a state
        // dict's `_metadata` with module versions) and a parameter's Python attributes: neither carries tensor data.
        if (object->kind != Object::Kind::kDict && object->kind != Object::Kind::kTensor) {
          fail(at, fmt::format("cannot set the state of a {}", kind_name(object->kind)));
        }
        return;
      }
      case op::kBinPersId: {
        auto id = pop();
        stack_.push_back(load_storage(id, at));
        return;
      }
      default: fail(at, fmt::format("unknown pickle opcode 0x{:02x}", code));
    }
  }

  std::int64_t as_int(const ObjectPtr& object, const char* what, std::size_t at) const {
    if (object->kind != Object::Kind::kInt) {
      fail(at, fmt::format("{} must be an int, got {}", what, kind_name(object->kind)));
    }
    return object->integer;
  }

  std::vector<std::int64_t> int_tuple(const ObjectPtr& object, const char* what, std::size_t at) {
    if (object->kind != Object::Kind::kTuple && object->kind != Object::Kind::kList) {
      fail(at, fmt::format("{} must be a tuple of ints, got {}", what, kind_name(object->kind)));
    }
    std::vector<std::int64_t> out;
    out.reserve(object->items.size());
    for (const auto& item : object->items) {
      out.push_back(as_int(item, what, at));
    }
    return out;
  }

  // ('storage', torch.FloatStorage, key, location, numel): the raw bytes are the archive record data/<key>.
  ObjectPtr load_storage(const ObjectPtr& id, std::size_t at) {
    if (id->kind != Object::Kind::kTuple || id->items.size() < 5 || id->items[0]->kind != Object::Kind::kString ||
        id->items[0]->text != "storage" || id->items[1]->kind != Object::Kind::kGlobal ||
        id->items[2]->kind != Object::Kind::kString) {
      fail(at, "a persistent id that is not ('storage', type, key, location, size)");
    }
    const auto& key = id->items[2]->text;
    const auto cached = storages_.find(key);
    if (cached != storages_.end()) {
      return cached->second;
    }
    std::string type = id->items[1]->text;
    const auto dot = type.rfind('.');
    type = type.substr(dot + 1);
    const auto it = storage_types().find(type);
    if (it == storage_types().end()) {
      fail(at, fmt::format("unsupported storage type {}", id->items[1]->text));
    }
    const std::int64_t numel = as_int(id->items[4], "a storage size", at);
    if (numel < 0) {
      fail(at, fmt::format("storage {} has a negative size {}", key, numel));
    }
    const std::string record = "data/" + key;
    if (!archive_.hasRecord(record)) {
      fail(at, fmt::format("the archive has no record {} for a storage it refers to", record));
    }
    auto [data, bytes] = archive_.getRecord(record);
    const auto element = static_cast<std::size_t>(c10::elementSize(it->second));
    std::size_t needed = 0;
    if (__builtin_mul_overflow(static_cast<std::size_t>(numel), element, &needed)) {
      fail(at, fmt::format("storage {} claims {} elements of {} bytes: more than 64 bits of bytes", key, numel, element));
    }
    if (bytes != needed) {
      fail(at, fmt::format("record {} has {} bytes but its storage of {} {} needs {}", record, bytes, numel,
                           c10::toString(it->second), needed));
    }
    auto storage = make(Object::Kind::kStorage);
    // The tensor takes over the record's buffer: a large checkpoint is not copied a second time.
    c10::Storage buffer(c10::Storage::use_byte_size_t(), bytes, std::move(data), nullptr, false);
    storage->tensor = at::empty({0}, at::TensorOptions().dtype(it->second)).set_(buffer, 0, {numel}, {1});
    storages_.emplace(key, storage);
    return storage;
  }

  ObjectPtr rebuild_tensor(const std::vector<ObjectPtr>& args, std::size_t at) {
    if (args.size() < 4 || args[0]->kind != Object::Kind::kStorage) {
      fail(at, "_rebuild_tensor needs (storage, offset, size, stride, ...)");
    }
    const auto& storage = args[0]->tensor;
    const std::int64_t offset = as_int(args[1], "a storage offset", at);
    const auto sizes = int_tuple(args[2], "a tensor size", at);
    const auto strides = int_tuple(args[3], "a tensor stride", at);
    if (sizes.size() != strides.size()) {
      fail(at, fmt::format("a tensor has {} sizes but {} strides", sizes.size(), strides.size()));
    }
    // Everything the view can reach must lie inside the storage.
    std::int64_t last = offset;
    bool empty = false;
    for (std::size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] < 0 || strides[d] < 0) {
        fail(at, "a tensor has a negative size or stride");
      }
      empty = empty || sizes[d] == 0;
      std::int64_t reach = 0;
      if (sizes[d] > 0 && (__builtin_mul_overflow(sizes[d] - 1, strides[d], &reach) ||
                           __builtin_add_overflow(last, reach, &last))) {
        fail(at, fmt::format("a tensor of sizes {} and strides {} reaches beyond 64-bit offsets", shape_string(sizes),
                             shape_string(strides)));
      }
    }
    if (offset < 0 || (!empty && last >= storage.numel())) {
      fail(at, fmt::format("a tensor reaches element {} of a storage of {}", last, storage.numel()));
    }
    auto object = make(Object::Kind::kTensor);
    object->tensor = empty ? at::empty(sizes, storage.options()) : storage.as_strided(sizes, strides, offset);
    return object;
  }

  ObjectPtr call(const ObjectPtr& callable, const ObjectPtr& args_object, std::size_t at) {
    if (callable->kind != Object::Kind::kGlobal) {
      fail(at, fmt::format("REDUCE calls a {}, not a class or function", kind_name(callable->kind)));
    }
    if (args_object->kind != Object::Kind::kTuple) {
      fail(at, fmt::format("{} is called with a {} instead of a tuple", callable->text, kind_name(args_object->kind)));
    }
    const auto& name = callable->text;
    const auto& args = args_object->items;
    if (name == "collections.OrderedDict" || name == "builtins.dict" || name == "__builtin__.dict") {
      auto dict = make(Object::Kind::kDict);
      if (!args.empty()) {
        if (args[0]->kind != Object::Kind::kList && args[0]->kind != Object::Kind::kTuple) {
          fail(at, fmt::format("{} from a {}", name, kind_name(args[0]->kind)));
        }
        for (const auto& pair : args[0]->items) {
          if (pair->kind != Object::Kind::kTuple || pair->items.size() != 2) {
            fail(at, fmt::format("{} from something other than (key, value) pairs", name));
          }
          dict->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      }
      return dict;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      return rebuild_tensor(args, at);
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (args.empty() || args[0]->kind != Object::Kind::kTensor) {
        fail(at, "_rebuild_parameter needs a tensor");
      }
      return args[0];
    }
    if (name == "torch._tensor._rebuild_from_type_v2" || name == "torch._tensor._rebuild_from_type") {
      // (function, tensor subclass, arguments, state): rebuild the plain tensor.
      if (args.size() < 3) {
        fail(at, fmt::format("{} needs (function, type, arguments, ...)", name));
      }
      return call(args[0], args[2], at);
    }
    if (name == "torch.jit._pickle.restore_type_tag") {
      if (args.empty()) {
        fail(at, "restore_type_tag needs an object");
      }
      return args[0];
    }
    if (name == "torch.Size" || name == "builtins.tuple" || name == "__builtin__.tuple") {
      if (args.empty()) {
        return make_tuple({});
      }
      return make_tuple(args[0]->items);
    }
    if (name == "_codecs.encode") {  // how protocol 2 writes Python 3 bytes: encode(text, 'latin1')
      if (args.empty() || args[0]->kind != Object::Kind::kString) {
        fail(at, "_codecs.encode needs a string");
      }
      std::string out;
      const auto& text = args[0]->text;
      for (std::size_t i = 0; i < text.size(); ++i) {  // UTF-8 code points below 256 -> one byte each
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
          out.push_back(static_cast<char>(c));
        } else if ((c == 0xC2 || c == 0xC3) && i + 1 < text.size()) {
          out.push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F)));
        } else {
          fail(at, "_codecs.encode of a character above U+00FF");
        }
      }
      return make_text(Object::Kind::kBytes, out);
    }
    fail(at, fmt::format("the file needs the Python object {}, which finfuse does not rebuild (finfuse reads dicts, "
                         "lists, tuples, numbers, strings and tensors; save the state dict itself)",
                         name));
  }

  std::string file_;
  caffe2::serialize::PyTorchStreamReader& archive_;
  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::vector<ObjectPtr> stack_;  // a null entry is a mark
  std::map<std::uint64_t, ObjectPtr> memo_;
  std::map<std::string, ObjectPtr> storages_;
};

c10::IValue to_ivalue(const ObjectPtr& object, const std::string& file, int depth) {
  if (depth > 256) {
    throw DataError(file, 0, "data.pkl", "objects nested more than 256 deep (or a container that holds itself)");
  }
  if (!object) {
    throw DataError(file, 0, "data.pkl", "a mark where an object belongs");
  }
  switch (object->kind) {
    case Object::Kind::kNone: return c10::IValue();
    case Object::Kind::kBool: return c10::IValue(object->boolean);
    case Object::Kind::kInt: return c10::IValue(object->integer);
    case Object::Kind::kFloat: return c10::IValue(object->real);
    case Object::Kind::kString:
    case Object::Kind::kBytes: return c10::IValue(object->text);
    case Object::Kind::kTensor: return c10::IValue(object->tensor);
    case Object::Kind::kTuple: {
      std::vector<c10::IValue> items;
      items.reserve(object->items.size());
      for (const auto& item : object->items) {
        items.push_back(to_ivalue(item, file, depth + 1));
      }
      return c10::IValue(c10::ivalue::Tuple::create(std::move(items)));
    }
    case Object::Kind::kList: {
      c10::impl::GenericList list(c10::AnyType::get());
      list.reserve(object->items.size());
      for (const auto& item : object->items) {
        list.push_back(to_ivalue(item, file, depth + 1));
      }
      return c10::IValue(list);
    }
    case Object::Kind::kDict: {
      c10::impl::GenericDict dict(c10::AnyType::get(), c10::AnyType::get());
      for (const auto& [key, value] : object->entries) {
        // c10's dictionaries hash strings, numbers, booleans and tensors only.
        if (key->kind == Object::Kind::kList || key->kind == Object::Kind::kDict || key->kind == Object::Kind::kGlobal ||
            key->kind == Object::Kind::kStorage || key->kind == Object::Kind::kTuple) {
          throw DataError(file, 0, "data.pkl", fmt::format("a dict key is a {}", kind_name(key->kind)));
        }
        try {
          dict.insert_or_assign(to_ivalue(key, file, depth + 1), to_ivalue(value, file, depth + 1));
        } catch (const Error&) {
          throw;
        } catch (const std::exception& e) {
          throw DataError(file, 0, "data.pkl", fmt::format("a dict entry that LibTorch cannot hold: {}", e.what()));
        }
      }
      return c10::IValue(dict);
    }
    case Object::Kind::kGlobal:
      throw DataError(file, 0, "data.pkl", fmt::format("the file holds the Python object {} itself", object->text));
    case Object::Kind::kStorage: return c10::IValue(object->tensor);
  }
  throw DataError(file, 0, "data.pkl", "an object of unknown kind");
}

}  // namespace

c10::IValue read_torch_save(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(file, "no such file");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw IoError(file, "is a directory, expected a file written by torch.save");
  }
  char magic[2] = {0, 0};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw IoError(file, "cannot be opened for reading");
    }
    in.read(magic, 2);
  }
  if (static_cast<unsigned char>(magic[0]) == op::kProto) {
    throw DataError(file, 0, "",
                    "this is the legacy torch.save format (PyTorch before 1.6, or _use_new_zipfile_serialization="
                    "False); save it again with torch.save's default settings");
  }
  if (magic[0] != 'P' || magic[1] != 'K') {
    throw DataError(file, 0, "", "not a file written by torch.save (expected a zip archive)");
  }
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> archive;
  try {
    archive = std::make_unique<caffe2::serialize::PyTorchStreamReader>(file);
  } catch (const c10::Error& e) {
    throw DataError(file, 0, "", fmt::format("not a readable torch.save archive: {}", e.what_without_backtrace()));
  }
  try {
    if (!archive->hasRecord("data.pkl")) {
      if (archive->hasRecord("constants.pkl") || archive->hasRecord("code/")) {
        throw DataError(file, 0, "", "this is a TorchScript module (torch.jit.save); save its state_dict() instead");
      }
      throw DataError(file, 0, "", "the archive has no data.pkl record");
    }
    if (archive->hasRecord("byteorder")) {
      auto [data, size] = archive->getRecord("byteorder");
      const std::string order(static_cast<const char*>(data.get()), size);
      if (order != "little") {
        throw DataError(file, 0, "byteorder", fmt::format("tensors saved in '{}' byte order; expected little", order));
      }
    }
    auto [data, size] = archive->getRecord("data.pkl");
    Interpreter interpreter(file, *archive, static_cast<const char*>(data.get()), size);
    return to_ivalue(interpreter.run(), file, 0);
  } catch (const c10::Error& e) {
    throw DataError(file, 0, "", fmt::format("the archive is damaged: {}", e.what_without_backtrace()));
  }
}

}  // namespace finfuse::formats
