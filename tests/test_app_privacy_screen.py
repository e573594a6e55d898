"""Privacy that holds on the screen (AppTest): with DP noise on, no exact user count of a
small group appears anywhere on the Overview, Segments or What changed pages, beside the
noisy ones; every count shown comes from one release (the same on every page and rerun)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.data import privacy as P
from profiling.data.dataset import sample_paths
from profiling.workspace import privacy as WP
from tests._apptest import wait_for_background

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SHIFT = 1000  # the stand-in noise: every count shown is its true value + 1000


def _workspace(tmp_path, name: str) -> W.Workspace:
    events = tmp_path / f"{W.slugify(name)}.parquet"
    ev = pl.read_parquet(sample_paths()["events"])
    keep = ev["user_id"].unique().sort().head(150)
    ev.filter(pl.col("user_id").is_in(keep.implode())).write_parquet(events)
    existing = {w.slug: w for w in W.list_workspaces()}
    return existing.get(W.slugify(name)) or W.create(name, str(events))


def _shifted(frame, column="users", epsilon=1.0):
    """A deterministic stand-in for OpenDP's noise: + SHIFT on every count."""
    return P.NoisyCounts(frame.with_columns(pl.col(column) + SHIFT), epsilon, column)


def _page(slug: str, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = slug
    at.run()
    if page:
        at = wait_for_background(at.switch_page(page).run())
    assert not at.exception
    return at


COUNT_COLUMNS = {"users", "customers", "Customers", "Users"}


def _texts(at: AppTest) -> list[str]:
    """Every piece of text the page shows: Markdown, captions, metrics (label: value),
    tables and data frames (headers, and every cell of a count column as "column: value"),
    info boxes, widget labels and options (the download buttons' labels among them), and
    the text printed on charts."""
    out = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.subheader, *at.title)]
    out += [f"{m.label}: {m.value}" for m in at.metric]
    for t in (*at.table, *at.dataframe):
        frame = t.value
        out += [str(c) for c in frame.columns]
        out += [f"{col}: {v}" for col in frame.columns if col in COUNT_COLUMNS for v in frame[col]]
    for box in at.selectbox:
        out.append(box.label)
        out += [str(o) for o in box.options]
    out += [b.proto.label for b in at.get("download_button")]
    out += [b.label for b in at.button]
    for chart in at.get("plotly_chart"):  # the numbers printed on charts (cells, bars)
        for trace in json.loads(chart.proto.spec)["data"]:
            text = trace.get("text")
            out += [f"chart text: {t}" for t in (text if isinstance(text, list) else [])]
    return out


def _shows_count(texts: list[str], n: int) -> list[str]:
    """The texts that show ``n`` as a count: a metric's value or a count column's cell, or
    "n users" / "n customers" in a sentence or label (with its thousands separator)."""
    number = rf"(?<![\d.,]){n:,}(?![\d.,%])"
    phrase = re.compile(number + r"\s+(users|customers)")
    alone = re.compile(rf"^[^:]+: {n:,}$")
    return [t for t in texts if phrase.search(t) or alone.match(t.strip())]


def _counts(frame, column: str) -> list[int]:
    return [int(str(v).replace(",", "")) for v in frame[column]]


@pytest.mark.parametrize("epsilon", [2.0])
def test_no_exact_small_count_appears_beside_noisy_ones(
    clear_streamlit_caches, tmp_path, monkeypatch, epsilon
):
    ws = _workspace(tmp_path, "Screen privacy shop")
    # the planted small counts, read from the pages with privacy off
    seg = _page(ws.slug, "app_pages/segments.py")
    sizes = seg.table[0].value
    small = {n for n in _counts(sizes, "customers") if n < 40}
    member_caption = next(c.value for c in seg.caption if " customers in **" in c.value)
    members = int(member_caption.split(" customers in")[0].replace(",", ""))
    chg = _page(ws.slug, "app_pages/changes.py")
    movers = {int(m.value.replace(",", "")) for m in chg.metric}
    flows = set(_counts(chg.dataframe[0].value, "users"))
    audience = next(b.proto.label for b in chg.get("download_button") if "customers (" in b.proto.label)
    assert re.match(r"Download \d+ customers \(", audience)  # the exact count, with privacy off
    planted = {n for n in small | {members} | movers | flows if 0 < n < 150}
    assert len(planted) >= 5, planted  # small groups, movers and flows of a 150-user store
    # with privacy off every planted count is on screen
    off = _texts(seg) + _texts(chg)
    assert all(_shows_count(off, n) for n in planted)

    monkeypatch.setattr(P, "dp_counts", _shifted)
    WP.set_settings(ws, WP.PrivacySettings(dp_epsilon=epsilon), "test")
    pages = {
        "Overview": _page(ws.slug),
        "Segments": _page(ws.slug, "app_pages/segments.py"),
        "What changed": _page(ws.slug, "app_pages/changes.py"),
    }
    for name, at in pages.items():
        texts = _texts(at)
        leaks = {n: _shows_count(texts, n) for n in planted if _shows_count(texts, n)}
        assert not leaks, f"{name} shows exact counts: {leaks}"
    seg_on, chg_on = pages["Segments"], pages["What changed"]
    # the noisy counts are shown instead, and the captions say so
    assert all(n >= SHIFT for n in _counts(seg_on.table[0].value, "customers"))
    assert all(n >= SHIFT for n in _counts(chg_on.dataframe[0].value, "users"))
    assert "differential-privacy noise (ε = 2)" in " ".join(c.value for c in seg_on.caption)
    labels = [b.proto.label for b in chg_on.get("download_button")]
    assert any(label.startswith("Download the customers (") for label in labels)
    assert "the list is exact, so its length is not printed" in " ".join(
        c.value for c in seg_on.caption
    )
    metrics = {m.label: m.value for m in chg_on.metric}
    assert metrics["Became inactive"] == "—"

    # one release: the Overview's segment table shows the Segments page's noisy sizes
    def by_segment(table) -> dict[str, int]:
        names = [re.sub(r"\\(.)", r"\1", str(s)) for s in table["segment"]]  # Markdown-escaped
        return dict(zip(names, _counts(table, "customers"), strict=True))

    overview_sizes = by_segment(pages["Overview"].table[0].value)
    segment_sizes = by_segment(seg_on.table[0].value)
    shared = set(overview_sizes) & set(segment_sizes)
    assert shared and all(overview_sizes[s] == segment_sizes[s] for s in shared)


def test_a_rerun_shows_the_same_noisy_counts(clear_streamlit_caches, tmp_path):
    ws = _workspace(tmp_path, "Screen privacy rerun shop")
    WP.set_settings(ws, WP.PrivacySettings(dp_epsilon=0.5), "test")
    first = _counts(_page(ws.slug, "app_pages/segments.py").table[0].value, "customers")
    again = _counts(_page(ws.slug, "app_pages/segments.py").table[0].value, "customers")
    assert first == again  # a reload cannot average the noise away
