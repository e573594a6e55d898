"""The documentation stays usable: the README is short, and every link, anchor, picture, file
path and module name that README.md and docs/*.md mention exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250
PICTURE_MAX_BYTES = 150 * 1024

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
REPO_PATH = re.compile(
    r"`((?:profiling|ui|app_pages|tests|bench|scripts|sample_data|docs)/[^`\s]*)`"
)
MODULE = re.compile(r"`(profiling(?:\.[A-Za-z_]\w*)+)")


def prose(text: str) -> str:
    """The text outside fenced code blocks (a `# comment` in a block is not a heading)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, title in HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        base = slug(title)
        n = seen.get(base, 0)
        found.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Each relative link of a Markdown file whose file or heading does not exist."""
    text = INLINE_CODE.sub("", prose(path.read_text(encoding="utf-8")))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no file {linked.relative_to(root)}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_an_existing_file_and_heading(path):
    assert broken_links(path) == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_named_in_the_docs_exists(path):
    named = REPO_PATH.findall(path.read_text(encoding="utf-8"))
    assert [p for p in named if not (ROOT / p).exists()] == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_library_name_in_the_docs_can_be_imported(path):
    missing = []
    for dotted in set(MODULE.findall(path.read_text(encoding="utf-8"))):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(dotted)
            break
        else:
            missing.append(dotted)
    assert missing == []


def test_the_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES


def test_the_readme_shows_a_small_picture_of_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\((docs/img/[^)]+\.png)\)", readme)
    pages = sorted((ROOT / "app_pages").glob("*.py"))
    assert len(pictures) == len([p for p in pages if p.name != "__init__.py"])
    for picture in pictures:
        assert (ROOT / picture).stat().st_size < PICTURE_MAX_BYTES, picture


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Real heading\n\n## The map's worker\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#real-heading) [ok too](other.md#the-maps-worker) [web](https://x.org)\n"
        "`[not a link](nowhere.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n"
        "[gone](missing.md) [no heading](other.md#not-there) ![picture](img/none.png)\n"
    )
    assert broken_links(page, root=tmp_path) == [
        "missing.md: no file missing.md",
        "other.md#not-there: no heading #not-there in other.md",
        "img/none.png: no file img/none.png",
    ]


def test_slugs_follow_githubs_rule():
    assert slug("Recommenders: MovieLens 100K") == "recommenders-movielens-100k"
    assert slug("Spark, and logs larger than memory") == "spark-and-logs-larger-than-memory"
    assert slug("The map's worker process") == "the-maps-worker-process"


def tracked_text_files() -> list[Path]:
    import subprocess

    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    keep = (".py", ".md", ".sh", ".toml", ".txt", ".cfg", ".yml", ".yaml", "Makefile", "run")
    return [ROOT / f for f in out if f.endswith(keep) and (ROOT / f).is_file()]


# the development machine's own folders and tools, which a user of the project does not have
MACHINE_WORDS = re.compile(r"/work/|shared/tools|farm-(studio|bench)|heavy \.venv")


def test_the_project_names_only_commands_anyone_can_run():
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in tracked_text_files()
        if path.name != "test_docs.py"
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if MACHINE_WORDS.search(line)
    ]
    assert not found, "\n".join(found)
