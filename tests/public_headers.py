"""finfuse.h includes every public header, and public headers include only public headers.

Usage: public_headers.py ROOT
"""
import pathlib
import re
import sys


def main(root: pathlib.Path) -> int:
    include = root / "include"
    umbrella = include / "finfuse" / "finfuse.h"
    public = {p.relative_to(include).as_posix() for p in include.rglob("*.h")} - {"finfuse/finfuse.h"}
    generated = {"finfuse/version.h"}  # configured into the build tree
    pattern = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    listed = set(pattern.findall(umbrella.read_text()))
    problems = [f"finfuse.h does not include {h}" for h in sorted(public - listed)]
    problems += [f"finfuse.h includes {h}, which is not a public header" for h in sorted(listed - public - generated)]
    for header in sorted(public):
        for target in pattern.findall((include / header).read_text()):
            if target not in public and target not in generated:
                problems.append(f"{header} includes \"{target}\", which is not under include/ (internal headers stay in src/)")
    for p in problems:
        print(p)
    print(f"{len(public)} public headers, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
