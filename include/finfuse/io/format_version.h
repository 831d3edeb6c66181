// Versions of the files finfuse writes to be read again later: bundles (io/bundle.h) and checkpoints
// (training/trainer.h). Each file names its format and version ("finfuse-bundle-1" in a bundle's manifest.json,
// "finfuse-checkpoint-1" in a checkpoint's state record); docs/reliability.md gives the rules.
//
// A finfuse reads every version from `oldest_readable` to `current` of each format, whatever finfuse or LibTorch
// version wrote the file, and refuses any other with an error naming the version found and the versions it reads.
// The version goes up when a file written now could not be read correctly by the reader of the version before; the
// golden bundles and checkpoints under tests/golden/ (written by each format version) must keep loading and
// predicting as stored, or the oldest readable version goes up with a note in docs/reliability.md.
#pragma once

#include <string>

namespace finfuse::io {

struct FormatVersion {
  /// "finfuse-bundle", "finfuse-checkpoint".
  const char* name;
  int current;
  int oldest_readable;

  /// "<name>-<current>": what a file written now carries.
  std::string tag() const;

  /// The version of `tag` ("<name>-<n>") when this finfuse reads it; otherwise a DataError for `file` at `field`
  /// naming the format found (and `written_by`, the finfuse that wrote it, when known) and the versions read here.
  int check(const std::string& tag, const std::string& file, const std::string& field,
            const std::string& written_by = "") const;
};

inline constexpr FormatVersion kBundleFormat{"finfuse-bundle", 1, 1};
inline constexpr FormatVersion kCheckpointFormat{"finfuse-checkpoint", 1, 1};

}  // namespace finfuse::io
