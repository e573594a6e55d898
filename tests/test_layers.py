"""The library stays free of the UI, and pages hold no computation."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_nothing_under_profiling_imports_streamlit():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "profiling").rglob("*.py")
        if "streamlit" in imported_modules(p)
    ]
    assert offenders == []


def test_pages_do_not_group_join_or_fit():
    pages = list((ROOT / "app_pages").glob("*.py"))
    assert len(pages) >= 5
    calls = (".group_by(", ".groupby(", ".agg(", ".join(", ".fit(")
    offenders = [f"{p.name}: {c}" for p in pages for c in calls if c in p.read_text()]
    assert offenders == []
