"""Index-name rules as Elasticsearch applies them (the stand-in accepts names real ES
rejects, so these are pure-function tests of the documented rules)."""

from __future__ import annotations

import pytest

from sluice.core.checks import (
    index_name_advice,
    index_name_problems,
    suggested_index_name,
    unused_index_name,
)


@pytest.mark.parametrize(
    "name", ["search-docs", "search-a.b_c-1", "docs", ".hidden", "a" * 255, "search-日本"]
)
def test_valid_names(name):
    assert index_name_problems(name) == []


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "must not be empty"),
        ("Search-Docs", "must be lowercase"),
        ("search docs", "space"),
        ("search,docs", "','"),
        ("search#docs", "'#'"),
        ("search:docs", "':'"),
        ("search*", "'*'"),
        ('a"b', "'\"'"),
        ("a\\b", "'\\'"),
        ("a/b", "'/'"),
        ("a?b", "'?'"),
        ("a<b>c", "'<', '>'"),
        ("a|b", "'|'"),
        ("_docs", "must not start with '_'"),
        ("-docs", "must not start with '-'"),
        ("+docs", "must not start with '+'"),
        (".", "must not be '.' or '..'"),
        ("..", "must not be '.' or '..'"),
        ("a" * 256, "256 bytes long; the limit is 255"),
        ("é" * 128, "256 bytes"),  # bytes, not characters
    ],
)
def test_each_rule_is_named(name, words):
    problems = index_name_problems(name)
    assert problems, name
    assert any(words in p for p in problems), problems


def test_every_problem_is_reported_at_once():
    problems = index_name_problems("_My Index:1")
    assert len(problems) == 3  # lowercase, forbidden characters, leading '_'


def test_search_prefix_is_advice_not_a_rule():
    assert index_name_problems("docs") == []
    assert any("search-" in a for a in index_name_advice("docs"))
    assert index_name_advice("search-docs") == []
    assert any("reserves" in a for a in index_name_advice(".docs"))


def test_long_names_leave_no_room_for_the_acl_index():
    advice = index_name_advice("search-" + "a" * 240)
    assert any(".search-acl-filter-" in a for a in advice)


@pytest.mark.parametrize("name", ["My Docs", "_x", "A:B#C", "docs", "é" * 200])
def test_suggestions_are_valid(name):
    suggestion = suggested_index_name(name)
    assert index_name_problems(suggestion) == []
    assert suggestion.startswith("search-")


def test_unused_index_name_skips_every_taken_name():
    assert unused_index_name("Team wiki", set()) == "search-team-wiki"
    taken = {"search-team-wiki", "search-team-wiki-2"}
    assert unused_index_name("Team wiki", taken) == "search-team-wiki-3"
    long = "a" * 300
    free = unused_index_name(long, {suggested_index_name(long)})
    assert free.endswith("-2") and len(free.encode()) <= 255
    assert index_name_problems(free) == []


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Café wiki ✓", "search-cafe-wiki"),
        ("Grüße — naïve", "search-gruße-naive"),
        ("日本語 wiki", "search-日本語-wiki"),
        ("ℌ Ｆｕｌｌ width", "search-h-full-width"),
        ("A:B#C", "search-a-b-c"),
        ("---", "search-content"),
    ],
)
def test_suggestions_drop_accents_and_symbols_but_keep_letters(name, suggestion):
    assert suggested_index_name(name) == suggestion
    assert index_name_problems(suggestion) == []
