"""Fails when finfuse's code reads a configuration key that docs/config-reference.md does not list.

Every string literal passed to a Config accessor (get, get_choice, contains, find_child, child, section, fail_at,
read_activation) in src/, and every field declared in a FINFUSE_OPTIONS field list (`F(type, name, ...)` lines of the
headers in include/), must appear in the reference as `key`.

Usage: python3 docs_config_reference.py SOURCE_DIR
"""
import glob
import os
import re
import sys

ACCESSOR = re.compile(r'\b(?:get<[^>]*>|get_choice|get|contains|find_child|child|section|fail_at)\s*\(\s*"([A-Za-z_0-9]+)"')
# Helpers that take the configuration first: read_activation(config, "activation", ...), pair_of(config, "kernel").
ACTIVATION = re.compile(r'\b\w+\(\s*(?:config|options|c|o)\s*,\s*"([a-z_0-9]+)"')
# A field of a FINFUSE_OPTIONS list: F(std::int64_t, hidden, 64, ...).
FIELD = re.compile(r'^\s*F\(\s*[\w:<>\s]+?,\s*([a-z_0-9]+)\s*,', re.MULTILINE)


def main(root):
    with open(os.path.join(root, "docs", "config-reference.md")) as f:
        documented = set(re.findall(r"`([A-Za-z_0-9]+)`", f.read()))
    missing = {}
    sources = [(path, (ACCESSOR, ACTIVATION))
               for path in sorted(glob.glob(os.path.join(root, "src", "**", "*.cpp"), recursive=True))]
    sources += [(path, (FIELD,))
                for path in sorted(glob.glob(os.path.join(root, "include", "**", "*.h"), recursive=True))]
    for path, patterns in sources:
        with open(path) as f:
            text = f.read()
        for pattern in patterns:
            for m in pattern.finditer(text):
                key = m.group(1)
                if key not in documented:
                    line = text.count("\n", 0, m.start()) + 1
                    missing.setdefault(key, []).append(f"{os.path.relpath(path, root)}:{line}")
    if missing:
        for key, places in sorted(missing.items()):
            print(f"undocumented configuration key `{key}` (read at {', '.join(places)})")
        sys.exit(1)
    print("every configuration key read by the code is in docs/config-reference.md")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
