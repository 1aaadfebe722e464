"""The built front end: where Vite's files are and which files each entry needs.

The front end's sources live in ``frontend/``; Vite builds them into ``web/dist``:
hashed files under ``assets/`` and ``.vite/manifest.json``, which maps each entry
(``src/colorMode.js``, ``src/site.css``, ``src/watch.js``, ``src/alerts.js``) to its
files. Templates link an entry's files through :func:`entry_assets`, which reads the
manifest once; a view asks :func:`frontend_built` whether its page can be served.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

DIST = Path(__file__).resolve().parents[1] / "dist"
MANIFEST = Path(".vite") / "manifest.json"
COLOR_MODE_ENTRY = "src/colorMode.js"
SITE_ENTRY = "src/site.css"
WATCH_ENTRY = "src/watch.js"
ALERTS_ENTRY = "src/alerts.js"


class FrontendNotBuilt(RuntimeError):
    """``web/dist`` has no Vite manifest: the front end was not built."""


def entry_assets(entry: str) -> dict:
    """URLs of an entry's built files: ``scripts``, ``styles`` and ``preloads``.

    Styles of imported chunks come before the entry's own, as Vite orders them. Worked
    out once per manifest: every page asks for its entries on every request.
    """
    chunks = manifest()
    known = current_app.extensions["vite_manifest"]["entries"]
    if entry not in known:
        known[entry] = _entry_assets(chunks, entry)
    return known[entry]


def _entry_assets(chunks: dict, entry: str) -> dict:
    found: dict[str, list[str]] = {"scripts": [], "styles": [], "preloads": []}
    seen: set[str] = set()

    def visit(key: str, is_entry: bool) -> None:
        if key in seen:
            return
        seen.add(key)
        chunk = chunks[key]
        for imported in chunk.get("imports", []):
            visit(imported, False)
        found["styles"] += [_url(css) for css in chunk.get("css", [])]
        if chunk["file"].endswith(".css"):
            found["styles"].append(_url(chunk["file"]))
        elif is_entry:
            found["scripts"].append(_url(chunk["file"]))
        else:
            found["preloads"].append(_url(chunk["file"]))

    if entry not in chunks:
        raise FrontendNotBuilt(f"the front-end build has no entry {entry!r}")
    visit(entry, True)
    found["styles"] = list(dict.fromkeys(found["styles"]))
    return found


def manifest() -> dict:
    """Vite's manifest, read once per process (again when it changes, in debug mode)."""
    cached = current_app.extensions.get("vite_manifest")
    if cached and not current_app.debug:
        return cached["chunks"]
    path = Path(current_app.config["FRONTEND_DIST"]) / MANIFEST
    if cached and cached["mtime"] == _mtime(path):
        return cached["chunks"]
    try:
        chunks = json.loads(path.read_text())
    except FileNotFoundError:
        raise FrontendNotBuilt(
            f"{path} is missing: build the front end (cd frontend && npm ci && npm run build)"
        ) from None
    current_app.extensions["vite_manifest"] = {
        "chunks": chunks,
        "mtime": _mtime(path),
        "entries": {},
    }
    return chunks


def frontend_built(page_entry: str = WATCH_ENTRY) -> bool:
    """True when the pages' entries (and ``page_entry``, the page's own) are built;
    otherwise log why, and pages say so."""
    try:
        entry_assets(COLOR_MODE_ENTRY)
        entry_assets(SITE_ENTRY)
        entry_assets(page_entry)
    except FrontendNotBuilt as error:
        log.error("%s", error)
        return False
    return True


def _url(file: str) -> str:
    # Vite names files relative to web/dist; those under assets/ are served by ``asset``.
    return "/" + file


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None
