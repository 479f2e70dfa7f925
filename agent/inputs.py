"""The one way in: every file `plan` reads (brief, stdin, template, plan, plan.json, backlog, config)
comes through `read_text`, and every JSON or YAML document through `load_json` / `load_yaml`.

What it guarantees, so no caller has to remember it:
- only regular files are opened: a FIFO, a device (`/dev/zero`), a socket or a directory is refused by its
  type before anything blocks on it or reads forever;
- the size limit holds while reading, standard input included, so a huge input never fills memory;
- text is UTF-8 (a byte-order mark is dropped); UTF-16 and Latin-1 files are named as such, with the
  command that converts them; unpaired surrogates never get in;
- JSON and YAML are parsed with a bound on nesting, and YAML without aliases (a few hundred bytes of
  nested aliases expand to gigabytes).

Errors are `InputError`s whose one-line message starts with the source; a caller may pass a factory for
its own error type (the template reader's `TemplateError` adds the path itself). A JSON or YAML syntax
error is always an `InputError` naming `source:line`, the place an editor jumps to.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections.abc import Callable
from typing import IO, Any

import yaml

from agent.errors import InputError

MAX_DEPTH = 64  # no brief, backlog or plan.json nests anywhere near this deep
STDIN = "-"

ErrorFactory = Callable[[str], InputError]


def _default_error(source: str) -> ErrorFactory:
    return lambda problem: InputError(f"{source}: {problem}")


def describe_size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit / 1000:g} KB"


def read_text(source: str, what: str, limit: int, error: ErrorFactory | None = None,
              stdin: IO[bytes] | None = None) -> str:
    """The UTF-8 text of `source` (a path, or `-` for standard input), at most `limit` bytes."""
    fail = error or _default_error("standard input" if source == STDIN else source)
    return decode(read_bytes(source, what, limit, fail, stdin), what, fail)


def read_bytes(source: str, what: str, limit: int, error: ErrorFactory | None = None,
               stdin: IO[bytes] | None = None) -> bytes:
    """The bytes of `source`, read under the same rules as `read_text`."""
    fail = error or _default_error("standard input" if source == STDIN else source)
    return _read_stdin(what, limit, fail, stdin) if source == STDIN else _read_file(source, what, limit, fail)


def _read_stdin(what: str, limit: int, fail: ErrorFactory, stdin: IO[bytes] | None) -> bytes:
    stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
    try:
        if stream is None or stream.closed:
            raise OSError("closed")
        data = stream.read(limit + 1)
    except (OSError, ValueError):
        raise fail(f"standard input is closed; pipe the {what} in, or pass its path") from None
    if data is None:  # a non-blocking stream with nothing in it
        raise fail(f"nothing to read on standard input; pipe the {what} in, or pass its path")
    if len(data) > limit:
        raise fail(f"the {what} on standard input is larger than the {describe_size(limit)} limit; trim it")
    return bytes(data)


def _read_file(path: str, what: str, limit: int, fail: ErrorFactory) -> bytes:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise fail(f"no such file; pass the path of the {what}") from None
    except OSError as err:
        raise fail(f"cannot read the {what}: {err.strerror or err}") from None
    if not stat.S_ISREG(info.st_mode):
        raise fail(f"{_kind(info.st_mode)}, not a regular file; pass the {what} as a file")
    if info.st_size > limit:  # in bytes when close: "1.0 MB, over the 1 MB limit" would make no sense
        size = f"{info.st_size / 1_000_000:.1f} MB" if info.st_size >= 1.1 * limit else f"{info.st_size:,} bytes"
        raise fail(f"the {what} is {size}, over the {describe_size(limit)} ({limit:,} bytes) limit; trim it")
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening it must not hang.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise fail(f"cannot read the {what}: {err.strerror or err}") from None
    with os.fdopen(handle, "rb") as file:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise fail(f"is not a regular file; pass the {what} as a file")
        try:
            data = file.read(limit + 1)
        except OSError as err:
            raise fail(f"cannot read the {what}: {err.strerror or err}") from None
    if len(data) > limit:  # it grew after the stat
        raise fail(f"the {what} is over the {describe_size(limit)} limit; trim it")
    return data


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is a special file"


def decode(data: bytes, what: str, fail: ErrorFactory) -> str:
    """UTF-8 text; anything else is an error that says what the bytes look like and how to convert them."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise fail(f"the {what} is UTF-16 text; save it as UTF-8 (iconv -f UTF-16 -t UTF-8 FILE > NEW)")
    if b"\x00" in data[:8192]:
        raise fail(f"this is a binary file, not a {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        position = f"byte {err.start}"
    raise fail(f"the {what} is not UTF-8 ({position}; it looks like Latin-1 or Windows-1252); save it as "
               "UTF-8 (iconv -f WINDOWS-1252 -t UTF-8 FILE > NEW)")


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a zero byte beside every character."""
    sample = data[:512]
    if len(sample) < 4:
        return False
    zeros_odd, zeros_even = sample[1::2].count(0), sample[0::2].count(0)
    half = len(sample) // 2
    return max(zeros_odd, zeros_even) > 0.8 * half and min(zeros_odd, zeros_even) < 0.1 * half


def clean_text(text: str) -> str:
    """`text` with unpaired surrogates (which JSON's `\\udc80` escapes can make) replaced: they cannot be
    encoded as UTF-8, so they could never be written to a file or sent to a model."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def load_json(text: str, source: str, error: ErrorFactory | None = None) -> Any:
    """A JSON document nested at most MAX_DEPTH deep."""
    fail = error or _default_error(source)
    # Nesting is counted outside strings before parsing, so a deep document costs one linear scan, not a
    # RecursionError deep inside the parser.
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            raise fail(f"the JSON is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{source}:{err.lineno}: not valid JSON ({err.msg}); fix the syntax") from None
    except RecursionError:
        raise fail(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, and with a bound on how deep collections nest."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.YAMLError(f"line {event.start_mark.line + 1}: YAML aliases (*name) are not allowed; "
                                 "write the value out")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise yaml.YAMLError(f"the YAML is nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load` with no aliases and nesting at most MAX_DEPTH deep; raises `yaml.YAMLError`."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise yaml.YAMLError(f"the YAML is nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def load_yaml(text: str, source: str, error: ErrorFactory | None = None) -> Any:
    """A YAML document through the safe loader, with no aliases and nesting at most MAX_DEPTH deep."""
    fail = error or _default_error(source)
    try:
        return parse_yaml(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{source}{line}: not valid YAML ({err.problem}); fix the syntax") from None
    except yaml.YAMLError as err:
        raise fail(f"{err}") from None


def repository_root(path: str | os.PathLike[str]) -> str:
    """The top of the git work tree holding `path` (a monorepo's packages share it), else `path` itself."""
    start = folder = os.path.realpath(path)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent


def trusted_path(value: str, roots: tuple[str | os.PathLike[str], ...], what: str, fix: str,
                 place: str = "the repository and the plan's folder") -> str:
    """`value`, a path that a file (plan.json, a config file) asked us to read, if it resolves inside one
    of `roots` and is not a file that holds credentials; else an InputError saying `fix`. Such files
    can arrive in a pull request, and what they name is read and sent to the model."""
    from agent.context.secrets import is_secret_path  # agent.context imports the brief, which imports this

    resolved = os.path.realpath(os.path.expanduser(value))
    for root in roots:
        base = os.path.realpath(root)
        inside = os.path.relpath(resolved, base)
        if inside != os.pardir and not inside.startswith(os.pardir + os.sep) and not os.path.isabs(inside):
            if is_secret_path(inside.replace(os.sep, "/")):
                raise InputError(f"{what} {value!r}, a credentials file, which plan never reads; {fix}")
            return value
    raise InputError(f"{what} {value!r}, outside {place}; {fix}")
