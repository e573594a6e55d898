"""Custom rule segments: rules evaluated on a hand-made profile frame, errors, persistence."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from profiling import workspace as W
from profiling.present import viz
from profiling.profiles.segments import segment_label
from profiling.vocabulary import i18n
from profiling.workspace import custom_segments as C
from profiling.workspace.custom_segments import CustomSegment, CustomSegmentError, Rule


def _ts(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


@pytest.fixture
def profiles() -> pl.DataFrame:
    # four users whose membership in every rule below is worked out by eye
    return pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "recency_days": [5.0, 40.0, None, 10.0],
            "frequency": [3, 1, 0, 6],
            "top_category": ["Books", "Toys", "Books", None],
            "tags": [["new"], [], ["lapsing", "new"], ["high value"]],
            "last_seen": [_ts(2024, 1, 15), _ts(2024, 2, 1), _ts(2024, 3, 1), None],
        },
        schema_overrides={"last_seen": pl.Datetime("us", "UTC")},
    )


def _members(profiles, rules, combine="and") -> list[str]:
    seg = CustomSegment("test", tuple(rules), combine)
    return C.members(profiles, seg)["user_id"].to_list()


def test_and_keeps_users_meeting_every_rule_and_a_missing_value_is_not_a_match(profiles):
    # recency <= 30: a (5), d (10); c's recency is missing -> not a member; b (40) no
    # frequency >= 3: a (3), d (6)
    rules = [Rule("recency_days", "<=", "30"), Rule("frequency", ">=", 3)]
    assert _members(profiles, rules) == ["a", "d"]


def test_or_keeps_users_meeting_any_rule(profiles):
    # recency <= 30: a, d; top category is Toys: b
    rules = [Rule("recency_days", "<=", 30), Rule("top_category", "==", "Toys")]
    assert _members(profiles, rules, "or") == ["a", "b", "d"]


def test_text_list_and_date_rules(profiles):
    assert _members(profiles, [Rule("tags", "contains", "new")]) == ["a", "c"]
    assert _members(profiles, [Rule("top_category", "in", "Books, Toys")]) == ["a", "b", "c"]
    assert _members(profiles, [Rule("top_category", "contains", "boo")]) == ["a", "c"]
    assert _members(profiles, [Rule("top_category", "!=", "Books")]) == ["b"]  # d is missing
    # last seen on or after 1 Feb 2024: b (1 Feb), c (1 Mar); d missing
    assert _members(profiles, [Rule("last_seen", ">=", "2024-02-01")]) == ["b", "c"]
    assert _members(profiles, [Rule("frequency", "in", "0, 6")]) == ["c", "d"]


def test_label_names_members_and_everyone_else(profiles):
    seg = CustomSegment("Loyal readers", (Rule("top_category", "==", "Books"),))
    out = C.label(profiles, seg)
    assert out["custom"].to_list() == ["Loyal readers", C.OUTSIDE, "Loyal readers", C.OUTSIDE]
    assert out.columns == [*profiles.columns, "custom"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule("spend", ">", 1), r"rule on 'spend': expected one of the profile features"),
        (Rule("frequency", ">", "lots"), r"rule on 'frequency': expected a number, found 'lots'"),
        (Rule("frequency", "contains", "1"), r"rule on 'frequency': expected an operator among"),
        (Rule("tags", ">", "new"), r"rule on 'tags': expected an operator among contains"),
        (Rule("last_seen", ">", "March"), r"rule on 'last_seen': expected a date as YYYY-MM-DD"),
        (Rule("recency_days", "<", ""), r"rule on 'recency_days': expected a value; found none"),
        (Rule("user_id", "==", "a"), r"rule on 'user_id': expected one of the profile features"),
    ],
)
def test_a_rule_that_cannot_apply_names_the_feature_and_what_was_expected(profiles, rule, message):
    with pytest.raises(CustomSegmentError, match=message):
        C.members(profiles, CustomSegment("x", (rule,)))


def test_a_segment_needs_rules_a_combination_and_a_name(profiles):
    with pytest.raises(CustomSegmentError, match="expected at least one rule"):
        C.members(profiles, CustomSegment("x", ()))
    with pytest.raises(CustomSegmentError, match="combine: expected 'and' or 'or'; found 'xor'"):
        C.members(profiles, CustomSegment("x", (Rule("frequency", ">", 1),), "xor"))
    with pytest.raises(CustomSegmentError, match="found an empty name"):
        C.check(profiles, CustomSegment("   ", (Rule("frequency", ">", 1),)))
    with pytest.raises(CustomSegmentError, match="names the users outside the rule"):
        C.check_name("everyone else")


def test_describe_reads_as_words():
    seg = CustomSegment(
        "x", (Rule("recency_days", "<=", 30), Rule("tags", "contains", "new")), "or"
    )
    labels = {"recency_days": "days since last order"}
    assert C.describe(seg, labels) == "days since last order at most 30 or tags contains new"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    f = tmp_path / "log.csv"
    f.write_text(
        "user,item,when,qty,price\nu1,i1,2024-01-01 10:00,1,5\nu2,i2,2024-01-02 10:00,2,3\n"
    )
    return W.create("Seg Shop", f)


def test_saved_segments_survive_a_fresh_open_and_can_be_replaced_and_deleted(workspace):
    first = CustomSegment("  Big  spenders ", (Rule("monetary", ">=", "100"),))
    stored = C.save(workspace, first, saved_by="ana@example.com")
    assert stored.name == "Big spenders"  # spaces tidied
    C.save(workspace, CustomSegment("Readers", (Rule("tags", "contains", "new"),), "or"))
    reopened = W.open_workspace("seg-shop")  # a new object reading the database again
    assert [s.name for s in C.saved(reopened)] == ["Big spenders", "Readers"]
    assert C.saved(reopened)[0] == CustomSegment("Big spenders", (Rule("monetary", ">=", "100"),))
    # saving under the same name replaces the rules
    C.save(reopened, CustomSegment("Big spenders", (Rule("monetary", ">=", 500),)))
    again = C.saved(W.open_workspace("seg-shop"))
    assert [s.name for s in again] == ["Readers", "Big spenders"]
    assert again[1].rules == (Rule("monetary", ">=", 500),)
    assert C.delete(reopened, "Readers") is True
    assert C.delete(reopened, "Readers") is False
    assert [s.name for s in C.saved(W.open_workspace("seg-shop"))] == ["Big spenders"]


def test_a_workspace_without_custom_segments_lists_none_and_bad_saves_are_refused(workspace):
    assert C.saved(workspace) == []
    with pytest.raises(CustomSegmentError, match="expected at least one rule"):
        C.save(workspace, CustomSegment("Empty", ()))
    with pytest.raises(CustomSegmentError, match="expected an operator among"):
        C.save(workspace, CustomSegment("Odd", (Rule("monetary", "~", 1),)))
    assert C.saved(workspace) == []


# ---- in the reader's language (issue 28) -----------------------------------------------------
def _message(call) -> str:
    with pytest.raises(CustomSegmentError) as err:
        call()
    return str(err.value)


def test_a_rule_that_cannot_apply_says_so_in_the_readers_language(profiles):
    seg = CustomSegment("x", (Rule("frequency", ">", "lots"),))
    english = "rule on 'frequency': expected a number, found 'lots'"
    assert _message(lambda: C.members(profiles, seg)) == english
    with i18n.language("zh"):
        assert _message(lambda: C.members(profiles, seg)) == (
            "关于 'frequency' 的规则：应为数字，实际为 'lots'"
        )
        assert _message(lambda: C.members(profiles, CustomSegment("x", ()))) == (
            "分群 'x'：至少需要一条规则，实际没有"
        )
    assert _message(lambda: C.members(profiles, seg)) == english  # back to English after


def test_everyone_else_is_stored_in_english_shown_in_chinese_and_reserved_in_both(profiles):
    seg = CustomSegment("Loyal readers", (Rule("top_category", "==", "Books"),))
    with i18n.language("zh"):
        labelled, descs = C.describe_custom(profiles, seg, ["frequency"])
        # the value in the data (and in exports) stays English
        assert labelled["custom"].to_list() == ["Loyal readers", "Everyone else"] * 2
        assert [d.segment for d in descs] == ["Loyal readers", "Everyone else"]
        # where the Segments page shows it (sizes table, pickers, charts): the reader's words
        assert segment_label("Everyone else") == "其他客户"
        assert segment_label("Loyal readers") == "Loyal readers"  # a user's name: as typed
        figure = viz.segment_sizes_figure(descs)
        assert list(figure.data[0].y) == ["Loyal readers", "其他客户"]
    assert segment_label("Everyone else") == "Everyone else"
    # neither the English nor the Chinese word can name a segment, whatever the page's language
    for name in ("Everyone else", "其他客户", " 其他客户 "):
        assert _message(lambda n=name: C.check_name(n)) == (
            "segment name: 'Everyone else' names the users outside the rule; choose another name"
        )
        with i18n.language("zh"):
            assert _message(lambda n=name: C.check_name(n)) == (
                "分群名称：'其他客户' 指规则之外的客户；请换一个名称"
            )
