"""One hop through the code: which repository files a file imports, and which import it.

Read from the import lines of Python and JavaScript/TypeScript files by pattern, resolved against the
repository's own paths; anything that resolves to no file (the standard library, packages) is ignored.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence

_PYTHON_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<module>\.*[\w.]*)[ \t]+import[ \t]+\(?(?P<names>[\w, \t\n]+)|import[ \t]+(?P<plain>[\w.]+))",
    re.MULTILINE,
)
_SCRIPT_IMPORT = re.compile(r"""(?:\bfrom|\bimport|\brequire\()\s*['"](?P<target>\.{1,2}/[^'"]+)['"]""")
_SCRIPT_EXTENSIONS = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".vue", ".svelte")
_SOURCE_ROOTS = ("src", "lib", "python")  # src/pkg/mod.py is imported as pkg.mod


class ImportGraph:
    """Resolves import lines to repository paths; built once per ranking from every readable path."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = frozenset(paths)
        self._modules: dict[str, str] = {}
        for path in paths:
            if path.endswith(".py"):
                module = path[:-3].removesuffix("/__init__").replace("/", ".")
                self._modules.setdefault(module, path)
                first, _, rest = module.partition(".")
                if first in _SOURCE_ROOTS and rest:
                    self._modules.setdefault(rest, path)

    def imports(self, path: str, text: str) -> set[str]:
        """The repository files `path` imports."""
        if path.endswith((".py", ".pyi")):
            return self._python_imports(path, text)
        if path.endswith(_SCRIPT_EXTENSIONS[1:]):
            return self._script_imports(path, text)
        return set()

    def _python_imports(self, path: str, text: str) -> set[str]:
        package = path.rpartition("/")[0].replace("/", ".")
        found: set[str] = set()
        for match in _PYTHON_IMPORT.finditer(text):
            if match["plain"]:
                found |= self._module_files([match["plain"]])
                continue
            module = _absolute(match["module"], package)
            names = [name.strip() for name in match["names"].replace("\n", " ").split(",")]
            # `from pkg import mod` imports a module when pkg/mod.py exists, a name in pkg otherwise.
            found |= self._module_files([module, *(f"{module}.{name}" for name in names if name)])
        found.discard(path)
        return found

    def _module_files(self, modules: Iterable[str]) -> set[str]:
        return {self._modules[module] for module in modules if module in self._modules}

    def _script_imports(self, path: str, text: str) -> set[str]:
        directory = path.rpartition("/")[0]
        found: set[str] = set()
        for match in _SCRIPT_IMPORT.finditer(text):
            target = posixpath.normpath(posixpath.join(directory, match["target"]))
            for candidate in (*(target + ext for ext in _SCRIPT_EXTENSIONS),
                              *(f"{target}/index{ext}" for ext in _SCRIPT_EXTENSIONS[1:])):
                if candidate in self._paths:
                    found.add(candidate)
                    break
        return found


def _absolute(module: str, package: str) -> str:
    """`..models` seen from package a.b.c is a.b.models; an absolute name stays as it is."""
    dots = len(module) - len(module.lstrip("."))
    if not dots:
        return module
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (dots - 1)] if dots - 1 <= len(parts) else []
    rest = module[dots:]
    return ".".join([*base, rest] if rest else base)
