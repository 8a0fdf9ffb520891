"""Documentation generated from the code: the pages and page regions (docs/, README.md) that must never drift."""

from __future__ import annotations

from pathlib import Path

from .regions import RegionError, fill_region, whole_page
from .targets import TARGETS, Target

DEFAULT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DOCS = DEFAULT_ROOT / "docs"


def generate(root: Path = DEFAULT_ROOT) -> dict[Path, str]:
    """{page path: its text as the code says it should be}, for every page docgen writes to under `root`
    (the repository root)."""
    pages: dict[Path, str] = {}
    for target in TARGETS:
        path = root / target.page
        content = target.render(root)
        if target.region is None:
            pages[path] = whole_page(content)
        else:
            current = pages.get(path)
            if current is None:
                current = path.read_text(encoding="utf-8") if path.is_file() else ""
            pages[path] = fill_region(current, target.region, content, page=target.page)
    return pages


def stale_pages(root: Path = DEFAULT_ROOT) -> list[Path]:
    """The pages whose text on disk differs from what generate() gives."""
    return [path for path, text in generate(root).items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text]


def write_pages(root: Path = DEFAULT_ROOT) -> list[Path]:
    """Write every page that changed; the list of those written."""
    written = []
    for path, text in generate(root).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


__all__ = ["DEFAULT_DOCS", "DEFAULT_ROOT", "TARGETS", "RegionError", "Target", "generate", "stale_pages",
           "write_pages"]
