"""Settings for `plan`, resolved once: flag > environment > config file > built-in default.

Config files live in the repository root: `.plan.toml` (top-level keys) and `[tool.plan]` in
`pyproject.toml`; a key in `.plan.toml` wins over the same key in `pyproject.toml`. Each value
remembers where it came from, for `plan config show`. API keys are not settings: they stay in the
environment, and nothing here reads or prints them (only whether one is set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.errors import InputError

if TYPE_CHECKING:  # the CLI imports this module to build its options: `plan --help` must stay light
    from agent.draft.cost import Price

CONFIG_FILES = (".plan.toml", "pyproject.toml")  # the first one to set a key wins
MAX_CONFIG_BYTES = 1_000_000
DEFAULT_MODELS = {"OPENAI_API_KEY": "openai:gpt-4.1-mini", "ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5"}
DEFAULT = "default"
KINDS = {"str": str, "int": int, "float": float}


def setting(default: Any, help: str, *, minimum: float | None = None, short: str = "", flag: bool = True,
            path: bool = False, unit: str = "", metavar: str = "") -> Any:
    """A field of `Settings` that is a setting: everything else about it (flag, environment variable,
    config key, the CLI option and its help) is derived from this one declaration."""
    return field(default=default, metadata={"setting": {"help": help, "minimum": minimum, "short": short,
                                                        "has_flag": flag, "path": path, "unit": unit,
                                                        "metavar": metavar}})


def _builtin_prices() -> dict[str, Price]:
    from agent.draft.cost import PRICES

    return dict(PRICES)


@dataclass(frozen=True)
class Settings:
    """Every default `plan` uses, each declared once here. `None` means unset: no model chosen (pick one
    by the keys set), no cost cap, no rate limits. `sources` says where each value came from; `prices`
    is the built-in table with the config file's prices over it."""

    model: str | None = setting(None, "openai:MODEL, anthropic:MODEL, ollama:MODEL or offline. "
                                "Default: a model for whichever API key is set, else offline.", short="-m",
                                metavar="PROVIDER:MODEL")
    template: str = setting("default", "Built-in template name or path to a markdown template.", short="-t",
                            path=True, metavar="NAME|PATH")
    out_dir: str = setting("implementation-plans", "Folder plans are written to, as OUT_DIR/<slug>/plan.md.", flag=False,
                           path=True)  # no flag of its own: --out names one plan's file, or a batch's folder
    context_tokens: int = setting(12_000, "Budget for repository context, in tokens.", minimum=1)
    concurrency: int = setting(8, "Section calls in flight at once.", minimum=1)
    max_rounds: int = setting(2, "Re-ask rounds for failing sections.", minimum=0)
    max_cost: float | None = setting(None, "Stop before a call that could take the run past this many US dollars.",
                                     minimum=0, unit="US dollars")
    # Without an answer after `timeout` seconds a call is abandoned (and retried while the deadline allows);
    # a draft, or one item of a batch, that has not ended after `deadline` seconds stops with an error.
    timeout: float = setting(120.0, "Seconds to wait for one model call before retrying it.", minimum=1,
                             unit="seconds")
    deadline: float = setting(900.0, "Seconds a whole draft may take before it stops with an error.", minimum=1,
                              unit="seconds")
    rpm: int | None = setting(None, "Requests per minute to stay under (learnt from the provider's rate-limit "
                              "headers when not given).", minimum=1)
    tpm: int | None = setting(None, "Tokens per minute to stay under.", minimum=1)
    prices: Mapping[str, Price] = field(default_factory=_builtin_prices, compare=False, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Key:
    """One setting as `setting()` declared it. Its flag (`--max-rounds`) and environment variable
    (`PLAN_MAX_ROUNDS`) follow from its name; `path`: a path in a config file is relative to that file's
    directory; `unit`: what a number counts, for messages."""

    name: str
    kind: type
    default: Any
    help: str
    minimum: float | None = None
    short: str = ""
    has_flag: bool = True
    path: bool = False
    unit: str = ""
    metavar: str = ""

    @property
    def flag(self) -> str:
        return f"--{self.name.replace('_', '-')}" if self.has_flag else ""

    @property
    def placeholder(self) -> str:
        """What `--help` shows for the option's value: `--deadline SECONDS`, `--max-cost USD`, `--rpm N`."""
        return self.metavar or {"seconds": "SECONDS", "US dollars": "USD"}.get(self.unit) or (
            "N" if self.kind is int else self.name.upper())

    @property
    def env(self) -> str:
        return f"PLAN_{self.name.upper()}"

    @property
    def help_with_default(self) -> str:
        """The help text with a numeric default, as `--help` shows it: "Re-ask rounds for failing sections [2]."."""
        if not isinstance(self.default, int | float):
            return self.help
        return f"{self.help.removesuffix('.')} [{self.default:g}]."


# The annotations are strings (`from __future__ import annotations`): "int | None" is read as int.
KEYS: dict[str, Key] = {item.name: Key(item.name, KINDS[str(item.type).split(" |")[0]], item.default,
                                       **item.metadata["setting"])
                        for item in fields(Settings) if "setting" in item.metadata}
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


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
    text = env.get(key.env, "").strip()
    if text:  # an environment variable is text: "8" is read as the setting's kind
        try:
            value = text if key.kind is str else key.kind(text)
        except ValueError:
            kind = "a whole number" if key.kind is int else "a number"
            raise InputError(f"{key.env} must be {kind}; fix or unset it") from None
        return _checked(value, key, key.env), f"env {key.env}"
    for config in files:
        if name in config.values:  # TOML is typed: 8 for a float is fine, "8" or true for a number is not
            where, value = f"`{name}` in {config.label}", config.values[name]
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not (isinstance(value, key.kind) and (key.kind is str or numeric)) and not (key.kind is float and numeric):
                kind = {str: "a string", int: "a whole number", float: "a number"}[key.kind]
                raise InputError(f"{where} must be {kind}; fix it")
            value = _checked(float(value) if key.kind is float else value, key, where)
            return (_relative(value, config.path.parent, where) if key.path else value), config.label
    return key.default, DEFAULT


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
    from agent.inputs import repository_root, trusted_path

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
            unknown = sorted(set(values or ()) - set(KEYS) - {"prices"})
            if unknown:  # a typo would otherwise be silently ignored; the value is not echoed, it may be a secret
                known = ", ".join([*KEYS, "prices"])
                raise InputError(f"{path}: unknown setting {unknown[0]!r}; known settings: {known}")
            if values is not None:
                found.append(ConfigFile(path, values))
    return found


def _load(path: Path) -> dict[str, Any] | None:
    import tomllib

    from agent.inputs import read_text

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


def _prices(files: list[ConfigFile]) -> tuple[dict[str, Price], str]:
    table = _builtin_prices()
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
    from agent.draft.cost import Price

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
    rows: dict[str, Any] = {name: {"value": getattr(settings, name), "source": settings.sources.get(name, DEFAULT)}
                            for name in KEYS}
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
    from agent.output import recorded_template

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
