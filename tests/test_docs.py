"""What the README and the docs site promise: the settings page is current and complete,
every page is in the nav, and the README stays short, with links that lead somewhere and
the test command CI runs."""

import re

import yaml

from scripts import settings_reference
from tests.support import ROOT

DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_LINES = 200


def nav_pages(entries) -> list[str]:
    """Every page mkdocs.yml's nav names, however deeply nested."""
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def mkdocs_config() -> dict:
    """mkdocs.yml, its ``!!python/name`` tags read as plain strings."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)
    return yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)


def test_every_setting_read_is_described_and_every_description_is_read():
    read = set(settings_reference.names_read())
    described = set(settings_reference.described(settings_reference.descriptions()))
    assert sorted(read - described) == [], "describe these in docs/reference/settings.toml"
    assert sorted(described - read) == [], "shared/settings.py no longer reads these"


def test_settings_page_is_what_the_generator_writes():
    committed = (DOCS / "reference" / "settings.md").read_text()
    assert committed == settings_reference.render(), "run python -m scripts.settings_reference"


def test_settings_page_gives_each_default_from_the_code():
    page = settings_reference.render()
    for name, default in settings_reference.settings.OPTIONAL_DEFAULTS.items():
        shown = f"`{default}`" if default else "unset"
        assert re.search(rf"### `{name}`\n\nDefault[^\n]*: {re.escape(shown)}", page), name
    assert "### `SECRET_KEY`\n\nDefault in production: **required**" in page


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    listed = nav_pages(mkdocs_config()["nav"])
    assert sorted(pages - set(listed)) == []
    assert sorted(set(listed) - pages) == []
    assert len(listed) == len(set(listed)), "a page listed twice"


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= README_LINES


def test_readme_links_lead_to_files():
    text = README.read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
    local = [target for target in targets if not re.match(r"[a-z]+:", target)]
    assert local, "the README links into the docs"
    missing = [t for t in local if not (ROOT / t.split("#")[0]).exists()]
    assert missing == []


def test_readme_test_command_is_what_ci_runs():
    readme = README.read_text()
    assert re.findall(r"^make (\w+)\s+#", readme, re.MULTILINE) == ["run", "test"]
    ci = (ROOT / ".ci" / "run").read_text()
    steps = re.findall(r"^make (\w+)", ci, re.MULTILINE)
    assert steps[-1] == "test" and "lint" in steps  # make test last, after the checks


def test_make_lint_builds_the_docs_strictly():
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"mkdocs build --strict", lint)


def test_screenshot_is_small_enough_for_the_repository():
    screenshot = DOCS / "images" / "watch-page.png"
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size < 300_000
