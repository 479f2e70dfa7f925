"""Keep secrets out of what is sent: files that hold credentials are never read, and values inside sent text are redacted."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

REDACTED = "[REDACTED]"

# Compared with the lower-cased file name: exactly, by its start, by its end, or anywhere in it.
SECRET_NAMES = frozenset({
    ".env", ".envrc", ".npmrc", ".pypirc", ".netrc", "_netrc", ".pgpass", ".htpasswd", ".git-credentials",
    "credentials", "credentials.json", "credentials.yml", "credentials.yaml", "credentials.toml", "credentials.csv",
    "secrets.json", "secrets.yml", "secrets.yaml", "secrets.toml", "secrets.ini",
})
SECRET_PREFIXES = (".env.", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "service-account")
SECRET_SUFFIXES = (
    ".env", ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".ppk", ".asc", ".gpg",
    "credentials.json", ".secrets", ".tfvars",
)
SECRET_INFIXES = (".tfstate",)
SECRET_DIRECTORIES = frozenset({".aws", ".ssh", ".gnupg", ".docker"})

# detect-secrets finds PEM headers line by line; a whole block must go, including lines outside an excerpt.
_PEM_BLOCK = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
    re.DOTALL,
)
# Some detectors report only a prefix of the secret (a regex group), so a hit grows to its whole token.
_TOKEN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/.~")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+")
# Public IP addresses are not secrets, and hiding them would make plans wrong.
_NOT_SECRETS = frozenset({"IPPublicDetector"})


def is_secret_path(path: str) -> bool:
    """True for files that hold credentials by convention; they are listed as existing but never read."""
    directory, _, name = path.rpartition("/")
    return is_secret_name(name) or not SECRET_DIRECTORIES.isdisjoint(directory.split("/"))


def is_secret_name(name: str) -> bool:
    lower = name.lower()
    return (
        lower in SECRET_NAMES
        or lower.startswith(SECRET_PREFIXES)
        or lower.endswith(SECRET_SUFFIXES)
        or any(infix in lower for infix in SECRET_INFIXES)
    )


def strip_private_keys(text: str) -> str:
    """Replace whole PEM private key blocks, line for line (so line numbers still hold); run it on a whole
    file before cutting an excerpt from it."""
    return _PEM_BLOCK.sub(lambda block: "\n".join([REDACTED] * (block.group(0).count("\n") + 1)), text)


def redact(text: str, path: str = "") -> str:
    """Replace private key blocks and every value a detect-secrets plugin flags with [REDACTED]."""
    filename = path or "file.txt"  # some detectors choose their patterns by file type
    lines = []
    # Line by line, so a value flagged once ("password") is not also erased from reset_password elsewhere.
    for line in strip_private_keys(text).split("\n"):
        if len(line) >= 8:  # every detector needs more than this
            found = {hit.secret_value or "" for plugin in _plugins()
                     for hit in plugin.analyze_line(filename=filename, line=line)}
            # A hit of a couple of characters would erase half the line; no real secret is that short. The name
            # of an environment variable read for a secret (`api_key_env = "STRIPE_API_KEY"`,
            # `os.environ["TOKEN"]`) says where the secret lives, which a plan needs to say too.
            kept = (value for value in found if len(value) >= 3 and not (_ENV_NAME.fullmatch(value) and re.search(
                rf"(?i)(env|environ|getenv)\W{{0,4}}{re.escape(value)}", line)))
            for value in sorted(kept, key=len, reverse=True):
                line = _hidden(line, value)
        lines.append(line)
    return "\n".join(lines)


def _hidden(line: str, value: str) -> str:
    """`line` with each occurrence of `value` and the token it sits in (a detector may report only part of
    it) replaced; one pass over the line, however long."""
    pieces, position = [], 0
    while (found := line.find(value, position)) >= 0:
        start, end = found, found + len(value)
        while start > position and line[start - 1] in _TOKEN:
            start -= 1
        while end < len(line) and line[end] in _TOKEN:
            end += 1
        while end < len(line) and line[end] == "=":  # base64 padding
            end += 1
        pieces += [line[position:start], REDACTED]
        position = end
    return "".join(pieces) + line[position:]


@cache
def _plugins() -> tuple[Any, ...]:
    # Imported here: detect-secrets pulls in requests, which `plan --help` should not pay for.
    # analyze_line verifies a hit over the network only when a baseline turns verification on; we never do.
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: Iterable[type[Any]] = get_mapping_from_secret_type_to_class().values()
    return tuple(cls() for cls in sorted(classes, key=lambda c: c.__name__) if cls.__name__ not in _NOT_SECRETS)
