"""Print each runtime dependency of pyproject.toml pinned to its floor: ``name==version``.

Each dependency must have a ``>=`` floor (a cap after it is allowed); .ci/run installs
these pins together to prove that the floors install and work.

    python .ci/floors.py [pyproject.toml] > floors.txt
"""

from __future__ import annotations

import re
import sys

import tomllib

FLOOR = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][^,;\s]*)\s*(,[^;]*)?")


def floors(pyproject: str) -> list[str]:
    with open(pyproject, "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    pins = []
    for requirement in dependencies:
        found = FLOOR.fullmatch(requirement.strip())
        if found is None:
            raise SystemExit(f"floors: the dependency {requirement!r} has no '>=' floor")
        pins.append(f"{found[1]}=={found[2]}")
    return pins


if __name__ == "__main__":
    print("\n".join(floors(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")))
