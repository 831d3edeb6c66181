// Files written by Python's torch.save: a zip archive holding a pickle (data.pkl) whose tensors point at raw storage
// records (data/0, data/1, ...). finfuse reads them with its own pickle interpreter, which rebuilds the objects that
// state dicts and training checkpoints hold (dicts and OrderedDicts, lists, tuples, numbers, strings, tensors and
// parameters) and refuses anything else: it never runs code named by the file.
#pragma once

#include <ATen/core/ivalue.h>

#include <filesystem>

namespace finfuse::formats {

/// Reads a torch.save file (the zip format, PyTorch 1.6 and later) into an IValue: dicts (ordered, with any hashable
/// keys) become GenericDicts, lists GenericLists, tuples Tuples; tensors are placed on the CPU whatever device they were
/// saved from, and views of one storage share it as they did in Python. IoError for a missing or unreadable file;
/// DataError naming the file and what was found for anything else (the pre-1.6 format, a TorchScript archive, a
/// truncated record, a Python class other than the ones above).
c10::IValue read_torch_save(const std::filesystem::path& path);

}  // namespace finfuse::formats
