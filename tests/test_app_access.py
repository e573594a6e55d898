"""AppTest: sign-in and workspace access fail closed (issue 23). Sign-in is configured with
``[auth]`` in the test's secrets and the signed-in user set on ``AppTest.user``."""

from __future__ import annotations

import contextlib
import functools
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.errors import WorkspaceError
from profiling.workspace import access as A
from profiling.workspace import db, store
from profiling.workspace import privacy as WP
from tests._access_fixtures import ANN, BOB, EVE, EVENTS, hold_lock, truncate_db

APP = str(Path(__file__).resolve().parent.parent / "app.py")
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "c" * 48,
    "client_id": "persona-studio-test",
    "client_secret": "s" * 24,
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


@pytest.fixture
def shops(tmp_path, clear_streamlit_caches):
    """In the session's workspace home: Ann's shop (shared with Bob) and Carl's shop (Eve's,
    shared with nobody); removed afterwards."""
    events = tmp_path / "e.csv"
    events.write_text(EVENTS + "\n")
    made = []
    for name, owner, shared in (("Acc Ann shop", ANN, [BOB]), ("Acc Carl shop", EVE, [])):
        with contextlib.suppress(WorkspaceError):
            W.delete(W.slugify(name))
        ws = W.create(name, str(events), extra_meta=A.owner_meta(owner))
        if shared:
            A.share(ws, owner, shared)
        made.append(ws)
    yield made
    for ws in made:
        shutil.rmtree(ws.path, ignore_errors=True)
    store._META.clear()


def _app(email: str | None, ws: str, *, verified=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": email is not None, "email": email or ""}
    if verified is not None:
        at.user["email_verified"] = verified
    at.query_params["ws"] = ws
    return at


def _plain(at: AppTest) -> str:
    """Every error, caption and markdown text of the run, without Markdown escapes."""
    parts = [e.value for e in at.error] + [c.value for c in at.caption]
    parts += [m.value for m in at.markdown]
    return "\n".join(parts).replace("\\", "")


def test_a_stranger_is_refused_while_another_process_holds_the_workspace_lock(shops, monkeypatch):
    ann = shops[0]
    monkeypatch.setattr(db, "connect", functools.partial(db.connect, wait_s=0.3))
    at = _app(EVE, ann.slug)
    with hold_lock(ann.db_path):
        store._META.clear()  # a server's first read of it
        at.run()
        at.switch_page("app_pages/segments.py").run()
    assert not at.exception
    text = _plain(at)
    assert "who may open it could not be checked" in text
    assert not at.dataframe and not at.metric  # no segment table, no numbers
    assert "Acc Ann shop" not in text and str(W.home()) not in text


def test_one_truncated_workspace_leaves_every_other_page_working_and_names_itself(
    shops, clear_streamlit_caches
):
    ann = shops[0]
    truncate_db(ann)
    at = AppTest.from_file(APP, default_timeout=300)  # open mode: no sign-in
    at.query_params["ws"] = "sample"
    at.run()
    assert not at.exception and not at.error
    picker = at.sidebar.selectbox(key="ps_dataset_picker")
    assert f"{ann.slug} (cannot be opened)" in [picker.format_func(o) for o in picker.options]
    assert "Acc Carl shop" in [picker.format_func(o) for o in picker.options]
    at.switch_page("app_pages/segments.py").run()
    assert not at.exception and at.dataframe  # another page, the sample store: still works

    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["ws"] = ann.slug
    at.run()
    assert not at.exception
    message = at.error[0].value.replace("\\", "")
    assert f"Workspace {ann.slug} could not be opened" in message.replace("*", "")
    assert "cannot be read" in message and str(W.home()) not in message
    # the same in Chinese: the app's sentence and the library's reason, the slug as data
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["ws"] = ann.slug
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    message = at.error[0].value.replace("\\", "").replace("*", "")
    assert message.startswith(f"无法打开工作区 {ann.slug}：无法读取它的数据库（")
    assert str(W.home()) not in message


def test_a_missing_workspace_offers_only_the_workspaces_the_viewer_may_open(shops):
    at = _app(BOB, "no-such-shop")
    at.run()
    assert not at.exception
    message = at.error[0].value.replace("\\", "")
    assert "**no-such-shop** could not be opened: there is no workspace" in message
    assert "Acc Ann shop (acc-ann-shop)" in message  # shared with Bob
    assert "Sample store (sample)" in message
    assert "Acc Carl shop" not in message and "acc-carl-shop" not in message
    assert str(W.home()) not in message and "/" not in message
    assert not at.metric


def test_a_shared_user_sees_no_owner_controls_and_the_owner_does(shops):
    ann = shops[0]
    WP.set_settings(ann, WP.PrivacySettings(min_group=10, dp_epsilon=1.0), ANN)
    at = _app(BOB, ann.slug)
    at.run()
    at.switch_page("app_pages/data.py").run()
    assert at.segmented_control(key="ps_data_source").options == [
        "New workspace from files",
        "Manage workspaces",
    ]  # no "Add data to ..."
    at.segmented_control(key="ps_data_source").set_value("Manage workspaces").run()
    assert not at.exception
    labels = [b.label for b in at.button]
    for owner_only in ("Save privacy settings", "Pseudonymize user ids", "Save sharing"):
        assert owner_only not in labels
    assert not at.number_input and not at.text_input  # no k, ε or user to erase
    assert "Groups under 10 users hidden; DP epsilon 1.0" in _plain(at)
    assert WP.audit_log(ann)["requested_by"].to_list() == [ANN]

    at = _app(ANN, ann.slug)
    at.run()
    at.switch_page("app_pages/data.py").run()
    assert "Add data to Acc Ann shop" in at.segmented_control(key="ps_data_source").options
    at.segmented_control(key="ps_data_source").set_value("Manage workspaces").run()
    assert "Save privacy settings" in [b.label for b in at.button]


def test_an_address_the_provider_says_is_unverified_is_refused(shops):
    at = _app(ANN, shops[0].slug, verified=False)
    at.run()
    assert not at.exception
    assert "e-mail address is not verified" in at.error[0].value
    assert not at.metric and "Acc Ann shop" not in _plain(at)
    at = _app(ANN, shops[0].slug, verified=True)
    at.run()
    assert not at.exception and not at.error and at.metric


def test_the_sign_in_box_and_the_sharing_panel_speak_chinese(shops):
    ann = shops[0]
    at = _app(None, ann.slug)
    at.query_params["lang"] = "zh"
    at.run()
    assert "登录" in [b.label for b in at.button]
    assert "客户数据属于个人数据：请登录后继续。" in [i.value for i in at.info]

    at = _app(ANN, ann.slug)
    at.query_params["lang"] = "zh"
    at.run()
    assert "当前登录身份" in [c.value for c in at.sidebar.caption]
    at.switch_page("app_pages/data.py").run()
    at.segmented_control(key="ps_data_source").set_value("Manage workspaces").run()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "保存共享设置" in labels and "保存隐私设置" in labels
    assert at.text_area(key="ps_ws_share").label == "共享给（每行一个电子邮箱地址）"
    assert at.text_input(key="ps_priv_erase").label == "删除一位客户（输入其 ID）"


def test_a_refused_workspace_says_why_in_chinese(shops):
    at = _app(EVE, shops[0].slug)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert at.error[0].value.replace("\\", "") == (
        "您无权访问此工作区。请让它的所有者共享给 eve@example.com，或在侧边栏中选择您自己的工作区。"
    )
    assert not at.metric and "Acc Ann shop" not in _plain(at)
