"""Write the settings reference page, docs/reference/settings.md.

The names and defaults come from ``shared/settings.py`` (every name ``load_settings``
reads, and its default dictionaries), the descriptions from
``docs/reference/settings.toml``, so the page cannot drift from the code:
``tests/test_docs.py`` fails when a setting has no description or the committed page
is not what this renders. Run ``python -m scripts.settings_reference`` after changing
either.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tomllib
from pathlib import Path

from shared import settings

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTIONS = ROOT / "docs" / "reference" / "settings.toml"
PAGE = ROOT / "docs" / "reference" / "settings.md"
SETTINGS_SOURCE = Path(settings.__file__)


def names_read() -> dict[str, str | None]:
    """Every setting ``shared/settings.py`` reads from the environment (each
    ``get("NAME")`` or ``environ.get("NAME")``), with the fallback given at the read
    itself (``APP_ENV``'s)."""
    names: dict[str, str | None] = {}
    tree = ast.parse(SETTINGS_SOURCE.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func
        called = function.attr if isinstance(function, ast.Attribute) else None
        if isinstance(function, ast.Name):
            called = function.id
        first = node.args[0]
        if called != "get" or not isinstance(first, ast.Constant):
            continue
        if isinstance(first.value, str) and first.value.isupper():
            fallback = node.args[1] if len(node.args) > 1 else None
            value = fallback.value if isinstance(fallback, ast.Constant) else None
            names.setdefault(first.value, value)
    return names


def descriptions() -> dict:
    """The descriptions file: ``intro``, ``group`` (title and settings) and ``elsewhere``."""
    return tomllib.loads(DESCRIPTIONS.read_text())


def described(data: dict) -> dict[str, str]:
    """Each setting the descriptions file names in a group, with its description."""
    return {
        name: text.strip() for group in data["group"] for name, text in group["settings"].items()
    }


def _shown(value: str) -> str:
    return f"`{value}`" if value else "unset"


def _defaults(name: str, fallback: str | None) -> str:
    """The line under a setting's name: its value when unset (in production, and in
    development where that differs), and whether it is a secret."""
    if name in settings.OPTIONAL_DEFAULTS:
        production = _shown(settings.OPTIONAL_DEFAULTS[name])
    elif fallback is not None:
        production = _shown(fallback)
    else:
        production = "**required**"
    development = {
        **settings.TWITCH_EMULATOR_DEFAULTS,
        **settings.PUSHER_EMULATOR_DEFAULTS,
        **settings.DEVELOPMENT_DEFAULTS,
    }.get(name)
    if development is None:
        parts = [f"Default: {production}"]
    else:
        emulated = name in settings.TWITCH_EMULATOR_DEFAULTS or (
            name in settings.PUSHER_EMULATOR_DEFAULTS
        )
        parts = [
            f"Default in production: {production}",
            f"in development: {_shown(development)}"
            + (" (the emulator's, unless real credentials are set)" if emulated else ""),
        ]
    if name in settings.SECRET_SETTINGS:
        parts.append("a secret: production refuses the development value")
    return " · ".join(parts)


def render() -> str:
    """The settings page, as Markdown."""
    data = descriptions()
    read = names_read()
    lines = [
        "<!-- Written by `python -m scripts.settings_reference` from shared/settings.py and",
        "     docs/reference/settings.toml: edit those, then run it. -->",
        "",
        "# Settings",
        "",
        data["intro"].strip(),
        "",
    ]
    for group in data["group"]:
        lines += [f"## {group['title']}", ""]
        for name, text in group["settings"].items():
            lines += [f"### `{name}`", "", _defaults(name, read.get(name)), "", text.strip(), ""]
    lines += [
        "## Read by the process commands",
        "",
        "These are read by the `Procfile`'s commands, not by `shared/settings.py`.",
        "",
    ]
    for name, entry in data["elsewhere"].items():
        lines += [
            f"### `{name}`",
            "",
            f"Default: {_shown(entry['default'])} · read by {entry['read_by']}",
            "",
            entry["description"].strip(),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the page, or with ``--check`` only say whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    arguments = parser.parse_args(argv)
    page = render()
    if arguments.check:
        current = PAGE.exists() and PAGE.read_text() == page
        if not current:
            print(f"{PAGE.relative_to(ROOT)} is stale: python -m scripts.settings_reference")
        return 0 if current else 1
    PAGE.write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
