"""Browser: a page opened with ``?lang=zh`` shows no English outside data values and an
allow-list of names that stay Latin (RFM, CSV, K, ...). Covers the pages translated so far
(``ZH_PAGES``, one app server and one browser page each); the others are listed in
docs/languages.md as not yet translated."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from tests.test_e2e import show_user_scores, snap, wait_idle

pytestmark = pytest.mark.e2e

ZH_PAGES = {
    "overview": "",
    "segments": "segments",
    "map": "map",
    "changes": "changes",
    "recommenders": "recommenders",
    "data": "data",
    "predictions": "predictions",
    # last: the predictions the Predictions page started are (nearly) done when it waits
    "user": "user?user=U000001",
}
"""Pages whose every word is translated: name -> URL path."""

HIDDEN = {
    # Streamlit's own file uploader words ("Upload", "200MB per file") are the framework's
    "data": ['[data-testid="stFileUploaderDropzone"]'],
}
"""Per page, parts of the page the scan leaves out, with why."""

NO_CHART = {"data", "recommenders", "predictions"}
"""Pages that draw no chart on first load (the sample store's report has nothing dropped;
the Recommenders page draws its charts once a comparison has run, before it shows its
form)."""
FIRST_TABLE = {"predictions"}
"""Pages that show the baselines' comparison table (and charts) as soon as the baselines are
measured, while the learned models train: the check waits for that table, not training."""

ALLOWED = {
    # technical names kept in Latin letters by Chinese marketing teams
    "RFM",
    "CSV",
    "ID",
    "UTC",
    "NDCG",
    "PDF",
    "README",
    "USD",
    "GBP",
    "CNY",
    "EUR",
    "JPY",
    "US",
    "CN",
    "JP",
    "Persona",
    "Studio",
    # names of models, methods, libraries and people (the recommenders and predictions)
    "ALS",
    "BPR",
    "EASE",
    "SVD",
    "NMF",
    "kNN",
    "KNNBasic",
    "GRU",
    "Rec",
    "SASRec",
    "TF",
    "IDF",
    "Surprise",
    "implicit",
    "PyTorch",
    "Apache",
    "Spark",
    "ML",
    "SKU",
    "RMSE",
    "MAE",
    "MAP",
    "MRR",
    "F1",
    "ROC",
    "AUC",
    "CLV",
    "BG",
    "NBD",
    "MBG",
    "Gamma",
    "Benjamini",
    "Hochberg",
    # file formats and the map projections, named as their tools name them
    "TSV",
    "JSON",
    "Parquet",
    "Excel",
    "UTF",
    "PCA",
    "UMAP",
    # the link parameter the Data page shows as code ("?ws=")
    "ws",
    # the switch names each language in itself
    "English",
    # data values of the sample store (workspace name)
    "Sample",
    "store",
}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def data_words() -> set[str]:
    """Words of the sample store's data values a page may show as they are: category and
    brand names, and the values of the users table's attributes (region, ...)."""
    items = pl.read_csv(SAMPLE / "items.csv", columns=["title", "category", "brand"])
    users = pl.read_csv(SAMPLE / "users.csv", infer_schema=False).drop("user_id")
    values = [v for c in items.columns for v in items[c].drop_nulls().to_list()]
    # the files' names (Data page) and the names of derived attributes (age_band)
    values += ["events parquet", "users csv", "items csv", "age band"]
    values += cluster_name_words()
    for col in users.columns:  # the attribute's name (a column of the file) and its values
        values += [col.replace("_", " ")] + users[col].drop_nulls().unique().to_list()
    return set(LATIN_WORD.findall(" ".join(values)))


def item_text_words() -> set[str]:
    """Words of the items' titles, categories, brands and descriptions, lowercased as the
    content model quotes them in its reasons ("shared terms: baby, wipes"): data values the
    User profile's recommendation lists show as they are. Never a stop word ("and", "the"):
    the model leaves those out, so English sentences are still found."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    items = pl.read_csv(SAMPLE / "items.csv", columns=["title", "category", "brand", "description"])
    text = " ".join(v for c in items.columns for v in items[c].drop_nulls().to_list())
    return {w.lower() for w in LATIN_WORD.findall(text)} - ENGLISH_STOP_WORDS


def cluster_name_words() -> list[str]:
    """Words of behaviour-group names: generated from the profile (segments.segment_name)
    and shown as they are, like a name from the data (segments.segment_label)."""
    from profiling.profiles.segments import segment_name

    features = (
        "monetary",
        "frequency",
        "n_events",
        "avg_unit_price",
        "days_since_seen",
        "weekend_share",
        "share_night",
        "share_morning",
        "share_afternoon",
        "share_evening",
        "view_to_purchase",
        "active_days",
    )
    names = [segment_name([(f, z)]) for f in features for z in (1.0, -1.0)]
    return [*names, *(n.lower() for n in names), segment_name([])]


def latin_words(text: str, data: set[str] = frozenset()) -> list[str]:
    """Words of two or more Latin letters that are not in :data:`ALLOWED` nor ``data``."""
    return sorted({w for w in LATIN_WORD.findall(text) if w not in ALLOWED and w not in data})


VISIBLE_TEXT = """(hidden) => {
  const app = document.querySelector('[data-testid="stApp"]').cloneNode(true);
  (hidden || []).forEach(sel => app.querySelectorAll(sel).forEach(e => e.remove()));
  // icons are ligatures ("database"), tooltips and the hidden script text are not read
  app.querySelectorAll('[data-testid="stIconMaterial"], script, style, .js-plotly-plot')
    .forEach(e => e.remove());
  document.body.appendChild(app);
  // every icon is a ligature in a Material Symbols font, whatever element draws it
  app.querySelectorAll('span, i, div').forEach(e => {
    if (e.childElementCount === 0 && (getComputedStyle(e).fontFamily || '').includes('Material')) e.remove();
  });
  const text = app.innerText;
  app.remove();
  return text;
}"""


def test_the_allow_list_check_finds_english_words_and_spares_allowed_ones():
    assert latin_words("RFM 分群 · 12 customers · CSV") == ["customers"]


@pytest.mark.parametrize("name", list(ZH_PAGES))
def test_a_page_opened_in_chinese_shows_no_english(browser, app_url, screenshots, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-US")
    path = ZH_PAGES[name]
    page.goto(f"{app_url}/{path}{'&' if '?' in path else '?'}lang=zh")
    wait_idle(page)
    if name == "user":
        show_user_scores(page)  # the scores block: drivers and risk reasons in Chinese too
    if name in FIRST_TABLE:
        page.locator('[data-testid="stTable"]').first.wait_for(timeout=180_000)
        page.locator(".js-plotly-plot").first.wait_for()
        wait_idle(page)
    if name not in NO_CHART:
        page.locator(".js-plotly-plot").first.wait_for()
        wait_idle(page)
    # Streamlit's own keyboard link ("Skip to main content", shown only on focus) is the
    # framework's, not a word of ours
    text = page.evaluate(VISIBLE_TEXT, HIDDEN.get(name, [])).replace("Skip to main content", "")
    # chart text is SVG: read it separately (titles, axes, legends)
    chart_text = " ".join(page.locator(".js-plotly-plot .main-svg text").all_text_contents())
    snap(page, screenshots / f"zh-{name}.png")
    page.set_viewport_size({"width": 1280, "height": 1000})  # the narrowest supported window
    wait_idle(page)
    snap(page, screenshots / f"zh-{name}-1280.png")
    assert "中文" in text  # the switch shows the chosen language
    data = data_words()
    if name == "user":  # the content model's reasons quote terms of the items' text (data)
        data |= item_text_words()
    assert latin_words(text, data) == []
    assert latin_words(chart_text, data) == []
    page.close()
