"""Print the shape of the codebase: lines per package, the largest functions,
and which top-level packages import which.

    python scripts/structure_report.py

Migrations, tests and scripts are left out; the figures are what the
architecture issue asks to compare before and after a redesign.
"""

import ast
import collections
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SKIP = {"tests", "scripts", "docs", "docker", ".venv", "static", "templates", "var"}


def python_files():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIP or rel.parts[0].startswith(".") or len(rel.parts) < 2:
            continue
        if "migrations" in rel.parts:
            continue
        yield rel


def main():
    packages = sorted({rel.parts[0] for rel in python_files()})
    lines = collections.Counter()
    functions = []
    imports = collections.defaultdict(collections.Counter)
    for rel in python_files():
        text = (ROOT / rel).read_text()
        package = rel.parts[0]
        lines[package] += len(text.splitlines())
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                functions.append((size, f"{rel}:{node.lineno} {node.name}"))
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module]
            for target in targets:
                top = target.split(".")[0]
                if top in packages and top != package:
                    imports[package][top] += 1
    print("## lines per package (no migrations)")
    for package in packages:
        print(f"{package:16} {lines[package]:6}")
    print(f"{'total':16} {sum(lines.values()):6}")
    print("\n## ten largest functions")
    for size, name in sorted(functions, reverse=True)[:10]:
        print(f"{size:4}  {name}")
    print("\n## modules over 500 lines")
    for rel in python_files():
        count = len((ROOT / rel).read_text().splitlines())
        if count > 500:
            print(f"{count:5}  {rel}")
    print("\n## imports between packages (row imports column: import statements)")
    width = max(len(p) for p in packages) + 1
    print(" " * width + " ".join(f"{p[:8]:>8}" for p in packages))
    for package in packages:
        row = " ".join(f"{imports[package][p] or '':>8}" for p in packages)
        print(f"{package:{width}}{row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
