"""Fails when a generated table of docs/config-reference.md differs from what the code declares.

The reference holds blocks between `<!-- finfuse options --markdown FAMILY -->` and `<!-- end -->`; each must equal
the output of `finfuse options --markdown FAMILY`, which lists every registered component of the family with the
fields its options struct declares (type, default, allowed values, meaning). `--update` rewrites the blocks.

Usage: python3 docs_options_tables.py FINFUSE_CLI SOURCE_DIR [--update]
"""
import re
import subprocess
import sys

BLOCK = re.compile(r"(<!-- finfuse options --markdown ([a-z0-9_.]+) -->\n)(.*?)(<!-- end -->)", re.DOTALL)


def generated(cli, family):
    return subprocess.run([cli, "options", "--markdown", family], check=True, capture_output=True,
                          text=True).stdout


def main(cli, root, update):
    path = f"{root}/docs/config-reference.md"
    with open(path) as f:
        text = f.read()
    blocks = list(BLOCK.finditer(text))
    if not blocks:
        sys.exit(f"{path}: no generated blocks found")
    stale = []

    def replace(m):
        fresh = "\n" + generated(cli, m.group(2))
        if m.group(3) != fresh:
            stale.append(m.group(2))
        return m.group(1) + fresh + m.group(4)

    new_text = BLOCK.sub(replace, text)
    if update:
        with open(path, "w") as f:
            f.write(new_text)
        print(f"updated {len(stale)} block(s): {', '.join(stale) or 'none'}")
        return
    if stale:
        print(f"docs/config-reference.md is out of date for: {', '.join(stale)}")
        print(f"regenerate with: python3 tests/docs_options_tables.py {cli} {root} --update")
        sys.exit(1)
    print(f"{len(blocks)} generated table block(s) match the declared options")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--update"):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], len(sys.argv) == 4)
