"""The README and the documentation site: links resolve, the README stays a front page, the site lists its pages.

``make docs`` (``mkdocs build --strict``) checks the site as MkDocs renders it; these tests check the Markdown as
GitHub shows it too (README.md links into docs/, docs pages link to each other) without building anything.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_MAX_LINES = 250

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`+[^`\n]*`+")
# [text](target) and ![alt](target); the target ends at the first space (an optional "title") or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def markdown_files() -> list[Path]:
    """README.md, CHANGELOG.md and every Markdown page of the site."""
    return [README, ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]


def strip_code(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are examples, not links)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slugify(heading: str) -> str:
    """The anchor of a heading, as Python-Markdown's toc extension (MkDocs) and GitHub make it for plain text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    """The heading anchors of a Markdown file."""
    return {slugify(m.group(2)) for m in HEADING.finditer(FENCE.sub("", path.read_text(encoding="utf-8")))}


def relative_links(path: Path) -> list[str]:
    """Every link target in a Markdown file that is neither a URL nor an e-mail address."""
    targets = LINK.findall(strip_code(path.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def shown(path: Path) -> str:
    """A path as the messages name it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def broken_links(path: Path, docs: Path = DOCS) -> list[str]:
    """The relative links of ``path`` whose file, or whose heading anchor in a Markdown file, does not exist.

    A page of the site (under ``docs``) may link only inside it (MkDocs serves nothing else); README.md may link
    anywhere.
    """
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no file {shown(dest)})")
            continue
        if path.is_relative_to(docs) and not dest.is_relative_to(docs):
            broken.append(f"{target} (outside docs/: the site cannot serve it; name the path in code instead)")
            continue
        generated = dest.suffix == ".md" and ":::" in dest.read_text(encoding="utf-8")  # mkdocstrings anchors
        if anchor and dest.suffix == ".md" and not generated and anchor not in anchors(dest):
            broken.append(f"{target} (no heading with anchor #{anchor} in {shown(dest)})")
    return broken


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    assert broken_links(path) == []


def test_link_check_refuses_a_page_linking_out_of_docs(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (docs / "other.md").write_text("# Other\n", encoding="utf-8")
    page = docs / "page.md"
    page.write_text("[inside](other.md) [outside](../pyproject.toml)\n", encoding="utf-8")
    assert [b.split(" ")[0] for b in broken_links(page, docs=docs)] == ["../pyproject.toml"]


def test_link_check_catches_a_broken_link_and_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading: yes\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-code-heading-yes) [gone](missing.md) [bad anchor](other.md#nope) "
        "[web](https://example.org/x.md) `[code](missing-too.md)`\n\n## Here\n\n[self](#here) [self bad](#there)\n",
        encoding="utf-8",
    )
    assert [b.split(" ")[0] for b in broken_links(page)] == ["missing.md", "other.md#nope", "#there"]


def test_readme_is_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines < README_MAX_LINES, f"README.md has {lines} lines (< {README_MAX_LINES}): move detail to docs/"


def test_readme_links_the_tag_table_and_the_site() -> None:
    links = relative_links(README)
    assert "docs/guide/metrics.md#tag-table" in links
    assert {"docs/getting-started.md", "docs/results/index.md", "docs/api/index.md", "CHANGELOG.md"} <= set(links)


def test_every_page_is_in_the_nav() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [p for item in node for p in pages(item)]
        if isinstance(node, dict):
            return [p for value in node.values() for p in pages(value)]
        return []

    nav = pages(config["nav"])
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(set(on_disk) - set(nav)) == [], "pages not in mkdocs.yml's nav (uncomment or add their entries)"
    assert sorted(set(nav) - set(on_disk)) == [], "nav entries without a page"


def test_result_figures_are_the_published_ones() -> None:
    """docs/results/img/<run>/ holds copies of published/<run>/figures/: re-copy them when a run is re-published."""
    copies = sorted((DOCS / "results" / "img").rglob("*.png"))
    assert copies
    for copy in copies:
        run = copy.parent.name
        original = ROOT / "published" / run / "figures" / copy.name
        assert original.exists(), f"{copy.relative_to(ROOT)} has no original in published/{run}/figures/"
        assert copy.read_bytes() == original.read_bytes(), f"{copy.relative_to(ROOT)} differs from {original}"
