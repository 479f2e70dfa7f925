"""Which repository paths are never read, decided from the path alone so that 50,000 paths cost little."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.context.secrets import SECRET_DIRECTORIES, is_secret_name

VENDORED_DIRECTORIES = frozenset({
    "node_modules", "bower_components", "jspm_packages", "vendor", "third_party", "Pods", "Carthage",
    ".venv", "venv", "site-packages", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".git", ".hg", ".svn", ".idea", ".vscode", ".gradle", ".terraform",
})
GENERATED_DIRECTORIES = frozenset({
    "dist", "build", "target", ".next", ".nuxt", ".svelte-kit", ".parcel-cache", ".turbo",
    "coverage", "htmlcov", ".cache", "__generated__", "generated",
})
GENERATED_SUFFIXES = (".min.js", ".min.css", ".map", "_pb2.py", "_pb2_grpc.py", ".pb.go", ".snap", ".lock")
LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "poetry.lock",
    "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "go.sum", "composer.lock", "Gemfile.lock",
    "mix.lock", "pubspec.lock", "Podfile.lock", "flake.lock", "packages.lock.json",
})
BINARY_EXTENSIONS = frozenset("""
    png jpg jpeg gif bmp ico icns webp tif tiff psd svgz avif heic
    pdf doc docx xls xlsx ppt pptx odt ods odp
    zip gz tgz bz2 xz zst 7z rar tar jar war ear whl egg apk ipa dmg iso deb rpm
    so dylib dll exe o a lib obj class pyc pyo pyd wasm bin dat
    woff woff2 ttf otf eot
    mp3 mp4 m4a wav ogg flac avi mov mkv webm
    sqlite sqlite3 db parquet feather avro orc npy npz pkl pickle h5 hdf5 onnx pt pth ckpt safetensors
""".split())


@dataclass(frozen=True)
class PathTriage:
    """Paths worth ranking, and why the others were left out."""

    readable: tuple[str, ...]
    secret_files: tuple[str, ...]
    skipped: dict[str, int]  # reason -> count, secret files excepted (they are listed one by one)


def skip_reason(path: str) -> str | None:
    """Why a path is never read, or None when it may be."""
    return _Triage().reason(path)


def triage(paths: Sequence[str]) -> PathTriage:
    judge = _Triage()
    readable: list[str] = []
    secrets: list[str] = []
    skipped: Counter[str] = Counter()
    for path in paths:
        reason = judge.reason(path)
        if reason is None:
            readable.append(path)
        elif reason == "secret file":
            secrets.append(path)
        else:
            skipped[reason] += 1
    return PathTriage(tuple(readable), tuple(secrets), dict(sorted(skipped.items())))


class _Triage:
    """Set lookups only, and each directory judged once: 50,000 paths share a few thousand directories."""

    def __init__(self) -> None:
        self._directories: dict[str, str | None] = {}

    def reason(self, path: str) -> str | None:
        directory, _, name = path.rpartition("/")
        if is_secret_name(name):
            return "secret file"
        if directory not in self._directories:
            self._directories[directory] = _directory_reason(directory)
        return self._directories[directory] or _name_reason(name)


def _directory_reason(directory: str) -> str | None:
    parts = directory.split("/")
    if not SECRET_DIRECTORIES.isdisjoint(parts):
        return "secret file"
    if not VENDORED_DIRECTORIES.isdisjoint(parts):
        return "vendored"
    return "generated" if not GENERATED_DIRECTORIES.isdisjoint(parts) else None


def _name_reason(name: str) -> str | None:
    if name in LOCK_FILES:
        return "lock file"
    if name.endswith(GENERATED_SUFFIXES):
        return "generated"
    extension = name.rpartition(".")[2].lower()
    if extension == "log":
        return "log"
    return "binary" if extension in BINARY_EXTENSIONS and "." in name else None
