"""Settings for `plan`, resolved once: flag > environment > config file > built-in default.

Config files live in the repository root: `.plan.toml` (top-level keys) and `[tool.plan]` in
`pyproject.toml`; a key in `.plan.toml` wins over the same key in `pyproject.toml`. Each value
remembers where it came from, for `plan config show`. API keys are not settings: they stay in the
environment, and nothing here reads or prints them (only whether one is set).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from agent.context.repo import DEFAULT_CONTEXT_TOKENS
from agent.draft.cost import PRICES, Price
from agent.errors import InputError
from agent.inputs import read_text, repository_root, trusted_path
from agent.output import PLANS_DIR, recorded_template
from agent.template.catalog import DEFAULT_TEMPLATE

CONFIG_FILES = (".plan.toml", "pyproject.toml")  # the first one to set a key wins
MAX_CONFIG_BYTES = 1_000_000
DEFAULT_MODELS = {"OPENAI_API_KEY": "openai:gpt-4.1-mini", "ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5"}
DEFAULT = "default"


@dataclass(frozen=True)
class Key:
    """One setting: its type, built-in default, flag, environment variable, and the least value it takes."""

    kind: type
    default: Any
    flag: str
    env: str
    minimum: float | None = None
    path: bool = False  # a path in a config file is relative to that file's directory
    unit: str = ""  # what a number counts, for messages


KEYS: dict[str, Key] = {
    "model": Key(str, None, "--model", "PLAN_MODEL"),
    "template": Key(str, DEFAULT_TEMPLATE, "--template", "PLAN_TEMPLATE", path=True),
    "out_dir": Key(str, PLANS_DIR, "", "PLAN_OUT_DIR", path=True),
    "context_tokens": Key(int, DEFAULT_CONTEXT_TOKENS, "--context-tokens", "PLAN_CONTEXT_TOKENS", minimum=1),
    "concurrency": Key(int, 8, "--concurrency", "PLAN_CONCURRENCY", minimum=1),
    "max_rounds": Key(int, 2, "--max-rounds", "PLAN_MAX_ROUNDS", minimum=0),
    "max_cost": Key(float, None, "--max-cost", "PLAN_MAX_COST", minimum=0, unit="US dollars"),
    # Without an answer after `timeout` seconds a call is abandoned (and retried while the deadline allows);
    # a draft, or one item of a batch, that has not ended after `deadline` seconds stops with an error.
    "timeout": Key(float, 120.0, "--timeout", "PLAN_TIMEOUT", minimum=1, unit="seconds"),
    "deadline": Key(float, 900.0, "--deadline", "PLAN_DEADLINE", minimum=1, unit="seconds"),
    "rpm": Key(int, None, "--rpm", "PLAN_RPM", minimum=1),
    "tpm": Key(int, None, "--tpm", "PLAN_TPM", minimum=1),
}
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True)
class Settings:
    """Every default `plan` uses. `None` means unset: no model chosen (pick one by the keys set), no cost
    cap, no rate limits. `sources` says where each value came from; `prices` is the built-in table with
    the config file's prices over it."""

    model: str | None = KEYS["model"].default
    template: str = KEYS["template"].default
    out_dir: str = KEYS["out_dir"].default
    context_tokens: int = KEYS["context_tokens"].default
    concurrency: int = KEYS["concurrency"].default
    max_rounds: int = KEYS["max_rounds"].default
    max_cost: float | None = KEYS["max_cost"].default  # US dollars
    timeout: float = KEYS["timeout"].default  # seconds per model call
    deadline: float = KEYS["deadline"].default  # seconds per draft
    rpm: int | None = KEYS["rpm"].default  # requests per minute, for `plan batch`
    tpm: int | None = KEYS["tpm"].default  # tokens per minute, for `plan batch`
    prices: Mapping[str, Price] = field(default_factory=lambda: dict(PRICES), compare=False, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    values: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.path} [tool.plan]" if self.path.name == "pyproject.toml" else str(self.path)


def resolve_settings(flags: Mapping[str, Any], env: Mapping[str, str], root: Path | str = ".") -> Settings:
    """The settings for a command run on the repository at `root`. `flags` maps setting names to the
    values given on the command line (None or absent when not given)."""
    files = read_config_files(Path(root))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, key in KEYS.items():
        values[name], sources[name] = _resolve(name, key, flags.get(name), env, files)
    values["prices"], sources["prices"] = _prices(files)
    return Settings(**values, sources=sources)


def _resolve(name: str, key: Key, flag: Any, env: Mapping[str, str], files: list[ConfigFile]) -> tuple[Any, str]:
    if flag is not None:
        return _checked(flag, key, key.flag or name), f"flag {key.flag or name}"
    if env.get(key.env, "").strip():
        return _checked(_parse(env[key.env].strip(), key, key.env), key, key.env), f"env {key.env}"
    for config in files:
        if name in config.values:
            where = f"`{name}` in {config.label}"
            value = _checked(_typed(config.values[name], key, where), key, where)
            return (_relative(value, config.path.parent, where) if key.path else value), config.label
    return key.default, DEFAULT


def _parse(text: str, key: Key, where: str) -> Any:
    if key.kind is str:
        return text
    try:
        return key.kind(text)
    except ValueError:
        kind = "a whole number" if key.kind is int else "a number"
        raise InputError(f"{where} must be {kind}; fix or unset it") from None


def _typed(value: Any, key: Key, where: str) -> Any:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if key.kind is float and numeric:
        return float(value)
    if isinstance(value, key.kind) and (key.kind is str or numeric):
        return value
    kind = {str: "a string", int: "a whole number", float: "a number"}[key.kind]
    raise InputError(f"{where} must be {kind}; fix it")


def _checked(value: Any, key: Key, where: str) -> Any:
    if key.minimum is None or (value >= key.minimum and (key.kind is not float or value > 0)):
        return value
    if key.kind is float and key.minimum == 0:
        least = f"a positive amount in {key.unit}"
    else:
        least = f"{key.minimum:g} {key.unit} or more".replace("  ", " ")
    raise InputError(f"{where} must be {least}")


def _relative(value: str, base: Path, where: str) -> str:
    """A relative path in a config file means the file's own directory; built-in template names stay.
    The path must stay inside that directory: a config file can arrive in a pull request, and the
    template it names is read and sent to the model."""
    path = Path(value).expanduser()
    if "/" not in value and not value.endswith(".md"):
        return value
    resolved = str(path if path.is_absolute() else base / path)
    return trusted_path(resolved, (repository_root(base),), where, "use a path inside the repository, or choose "
                        "the template with --template or PLAN_TEMPLATE", "the repository")


def read_config_files(root: Path) -> list[ConfigFile]:
    """`.plan.toml` and the `[tool.plan]` table of `pyproject.toml` in `root`, those that exist."""
    found = []
    for name in CONFIG_FILES:
        path = root / name
        if path.exists():  # anything that is not a regular file is refused by the reader, not skipped
            values = _load(path)
            if values is not None:
                found.append(ConfigFile(path, _known(values, path)))
    return found


def _load(path: Path) -> dict[str, Any] | None:
    text = read_text(str(path), "config file", MAX_CONFIG_BYTES)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise InputError(f"{path}: the TOML is nested too deeply; fix the file") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML ({error}); fix the file") from None
    if path.name != "pyproject.toml":
        return data
    table = data.get("tool", {}).get("plan")
    if table is not None and not isinstance(table, dict):
        raise InputError(f"{path}: [tool.plan] must be a table")
    return table


def _known(values: dict[str, Any], path: Path) -> dict[str, Any]:
    unknown = sorted(set(values) - set(KEYS) - {"prices"})
    if unknown:  # a typo would otherwise be silently ignored; the value is not echoed, it may be a secret
        known = ", ".join([*KEYS, "prices"])
        raise InputError(f"{path}: unknown setting {unknown[0]!r}; known settings: {known}")
    return values


def _prices(files: list[ConfigFile]) -> tuple[dict[str, Price], str]:
    table = dict(PRICES)
    labels = []
    for config in reversed(files):  # the file that wins is applied last
        given = config.values.get("prices")
        if given is None:
            continue
        if not isinstance(given, dict):
            raise InputError(f"{config.label}: `prices` must be a table of model = {{input, output}} prices")
        table.update({model: _price(model, price, config.label) for model, price in given.items()})
        labels.append(f"{config.label} ({', '.join(sorted(given))})")
    return table, " + ".join(["built-in table", *labels]) if labels else DEFAULT


def _price(model: str, value: Any, where: str) -> Price:
    """`{input, output}` in USD per million tokens; the cache prices default to the input price."""
    if not isinstance(value, dict) or not {"input", "output"} <= value.keys() or set(value) - set(PRICE_FIELDS):
        raise InputError(f"{where}: the price of {model!r} needs `input` and `output` (and optionally "
                         "`cache_read`, `cache_write`) in USD per million tokens")
    return Price(**{name: _amount(value.get(name, value["input"]), f"{where}: {model} {name}")
                    for name in PRICE_FIELDS})


def _amount(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(f"{where} must be a price of 0 or more, in USD per million tokens")
    return float(value)


def origin(settings: Settings, name: str) -> str:
    """Where a setting's value came from, as a user would type it: `--max-cost`, `PLAN_MAX_COST`, or
    "`max_cost` in .plan.toml", so a message about a bad value sends them to the right place."""
    key, source = KEYS[name], settings.sources.get(name, DEFAULT)
    if source.startswith("env "):
        return key.env
    if source == DEFAULT or source.startswith("flag "):
        return key.flag or name
    return f"`{name}` in {source}"


def default_model(env: Mapping[str, str]) -> tuple[str, str]:
    """The model used when none is set, and why: the first provider whose API key is set, else offline."""
    for variable, model in DEFAULT_MODELS.items():
        if env.get(variable):
            return model, f"{variable} is set"
    return "offline", "no API key is set"


def config_report(settings: Settings, env: Mapping[str, str]) -> dict[str, Any]:
    """`plan config show --format json`: every setting's value and where it came from. API keys are not
    settings; the report says only which one picked the default model."""
    rows: dict[str, Any] = {}
    for item in fields(Settings):
        if item.name not in ("sources", "prices"):
            rows[item.name] = {"value": getattr(settings, item.name), "source": settings.sources.get(item.name, DEFAULT)}
    if settings.model is None:
        model, reason = default_model(env)
        rows["model"] = {"value": model, "source": f"{DEFAULT} ({reason})"}
    prices = {model: asdict(price) for model, price in settings.prices.items()}
    rows["prices"] = {"value": prices, "source": settings.sources.get("prices", DEFAULT)}
    return {"schema_version": 1, "settings": rows}


def format_config(report: dict[str, Any]) -> str:
    """One line per setting: name, value, source."""
    lines = []
    for name, row in report["settings"].items():
        value = row["value"]
        shown = f"{len(value)} models" if name == "prices" else "-" if value is None else str(value)
        lines.append(f"{name:<15} {shown:<30} {row['source']}")
    return "\n".join(lines)


def settings_for_plan(plan_path: str, flags: Mapping[str, Any], env: Mapping[str, str], root: Path | str = ".") -> Settings:
    """Settings for a command on an existing plan: the template its plan.json records comes right after
    the --template flag, before the environment and config files (a plan follows the template it was
    drafted from). A recorded template outside the repository is not read; a template set in the
    environment or a config file is then used instead, and without one the user is asked for --template."""
    if flags.get("template"):
        return resolve_settings(flags, env, root)
    try:
        template = recorded_template(Path(plan_path), root)
    except InputError:
        settings = resolve_settings(flags, env, root)
        if settings.sources.get("template", DEFAULT) == DEFAULT:
            raise
        return settings
    return resolve_settings({**flags, "template": template}, env, root)
