// `finfuse options`: every pluggable family's registered components and, where their options are declared with
// FINFUSE_OPTIONS, each field's type, default, allowed values and meaning, as text, JSON or Markdown (the tables of
// docs/config-reference.md are this command's Markdown output, checked by the docs.options_tables test).
#pragma once

#include "finfuse/core/config.h"

#include <string>
#include <vector>

namespace finfuse::cli {

/// The families `finfuse options` describes, in order: "encoder", "fusion", "head", "loss", "optimizer",
/// "scheduler", "metric", "callback", "activation", "modality", then the configuration sections read into one options
/// struct each ("runtime", "data.assembly", ..., "data.dataset.numeric", "backtest").
std::vector<std::string> option_families();

/// {"<component>": [{"name", "type", "default", "allowed", "doc"}, ...] or null where no fields are declared}.
/// Throws finfuse::Error for an unknown family, listing the known ones.
Json describe_family(const std::string& family);

/// A Markdown table per component of `family` (a heading, then the fields); one table, without a heading, for a
/// configuration section.
std::string family_markdown(const std::string& family);

/// Aligned text: each component and its fields.
std::string family_text(const std::string& family);

}  // namespace finfuse::cli
