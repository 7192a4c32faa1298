"""PIN, name and window rules, and PIN generation, for every Seam constraint and brand."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinwarden.catalog.brands import BRANDS
from pinwarden.domain.codes import (
    code_violations,
    generate_code,
    is_weak,
    name_violations,
    window_violations,
)
from pinwarden.domain.model import Capabilities

PLAIN = Capabilities(
    brand="test", slot_count=10, native_scheduling=True, supported_code_lengths=(4, 5, 6, 7, 8)
)
DIGIT_CONSTRAINTS = (
    "no_zeros",
    "cannot_start_with_12",
    "no_triple_consecutive_ints",
    "no_ascending_or_descending_sequence",
    "at_least_three_unique_digits",
    "cannot_contain_089",
    "cannot_contain_0789",
    "unique_first_four_digits",
    "no_all_same_digits",
)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def with_rule(rule: str) -> Capabilities:
    return replace(PLAIN, code_constraints=(rule,))


@pytest.mark.parametrize(
    ("rule", "breaks", "keeps"),
    [
        ("no_zeros", "4820", "4821"),
        ("cannot_start_with_12", "1293", "2193"),
        ("no_triple_consecutive_ints", "93457", "93467"),
        ("no_triple_consecutive_ints", "93337", "93387"),
        ("no_triple_consecutive_ints", "96547", "96537"),
        ("no_ascending_or_descending_sequence", "3456", "3457"),
        ("no_ascending_or_descending_sequence", "87654", "87653"),
        ("at_least_three_unique_digits", "4477", "4478"),
        ("cannot_contain_089", "4829", "4721"),
        ("cannot_contain_0789", "4721", "4621"),
        ("no_all_same_digits", "5555", "5556"),
    ],
)
def test_each_digit_rule_names_itself_when_broken(rule: str, breaks: str, keeps: str) -> None:
    caps = with_rule(rule)
    problems = code_violations(breaks, caps)
    assert len(problems) == 1 and f"({rule})" in problems[0]
    assert code_violations(keeps, caps) == []


def test_first_four_digits_must_differ_from_the_programming_code() -> None:
    caps = with_rule("unique_first_four_digits")
    assert "unique_first_four_digits" in code_violations("4827", caps, programming_code="482791")[0]
    assert code_violations("4828", caps, programming_code="482791") == []
    assert code_violations("4827", caps) == []


@pytest.mark.parametrize("code", ["", "48a7", "４８２７", "48 7"])
def test_only_ascii_digits_make_a_pin(code: str) -> None:
    assert any("digits_only" in p for p in code_violations(code, PLAIN))


def test_length_outside_the_supported_lengths_is_explained() -> None:
    (problem,) = code_violations("482", PLAIN)
    assert "4 to 8 digits" in problem and "supported_code_lengths" in problem
    (problem,) = code_violations("48271", replace(PLAIN, supported_code_lengths=(4, 6)))
    assert "4 or 6 digits" in problem


def test_constraints_not_about_digits_do_not_judge_the_pin() -> None:
    caps = replace(PLAIN, code_constraints=("cannot_specify_pin_code", "start_date_in_future"))
    assert code_violations("4827", caps) == []


def test_names_must_fit_the_name_length() -> None:
    caps = replace(PLAIN, name_min_length=2, name_max_length=14)
    assert name_violations("Al", caps) == []
    assert "at least 2" in name_violations("A", caps)[0]
    assert "at most 14" in name_violations("A" * 15, caps)[0]
    assert name_violations("", PLAIN) == []


def test_window_must_end_after_it_starts_and_start_in_the_future_where_required() -> None:
    later = NOW + timedelta(hours=1)
    assert window_violations(PLAIN, NOW, later, NOW) == ["ends_at must be after starts_at"]
    future_only = with_rule("start_date_in_future")
    assert window_violations(PLAIN, NOW, NOW - timedelta(hours=1), later) == []
    assert (
        "start_date_in_future"
        in window_violations(future_only, NOW, NOW - timedelta(seconds=1), later)[0]
    )
    assert window_violations(future_only, NOW, None, later) == []


@settings(database=None, max_examples=200)
@given(
    brand=st.sampled_from(sorted(BRANDS)),
    seed=st.integers(min_value=0, max_value=2**32),
    preferred=st.none() | st.integers(min_value=3, max_value=10),
)
def test_generated_pins_fit_every_brand(brand: str, seed: int, preferred: int | None) -> None:
    caps = BRANDS[brand].capabilities
    code = generate_code(caps, random.Random(seed), preferred_length=preferred)
    assert code_violations(code, caps) == []
    assert not is_weak(code)
    expected = (
        preferred if preferred in caps.supported_code_lengths else min(caps.supported_code_lengths)
    )
    assert len(code) == expected


@settings(database=None, max_examples=200)
@given(
    rules=st.sets(st.sampled_from(DIGIT_CONSTRAINTS)),
    length=st.integers(min_value=4, max_value=8),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_generated_pins_satisfy_any_mix_of_constraints(
    rules: set[str], length: int, seed: int
) -> None:
    caps = replace(PLAIN, code_constraints=tuple(sorted(rules)), supported_code_lengths=(length,))
    code = generate_code(caps, random.Random(seed), programming_code="123456")
    assert code_violations(code, caps, programming_code="123456") == []


@settings(database=None, max_examples=100)
@given(seed=st.integers(min_value=0, max_value=2**32), data=st.data())
def test_generated_pins_honour_avoid(seed: int, data: st.DataObject) -> None:
    caps = replace(PLAIN, supported_code_lengths=(4,))
    avoid = data.draw(st.sets(st.from_regex(r"\A[0-9]{4}\Z"), max_size=300))
    assert generate_code(caps, random.Random(seed), avoid=avoid) not in avoid


def test_generation_is_deterministic_given_the_rng() -> None:
    caps = BRANDS["kwikset"].capabilities
    assert generate_code(caps, random.Random(7)) == generate_code(caps, random.Random(7))


def test_unique_first_four_digits_avoids_prefixes_already_on_the_lock() -> None:
    caps = replace(
        PLAIN, code_constraints=("unique_first_four_digits",), supported_code_lengths=(6,)
    )
    taken = {f"{p:04d}" for p in range(10000) if p != 4827}
    avoid = {prefix + "19" for prefix in taken}
    assert generate_code(caps, random.Random(1), avoid=avoid).startswith("4827")


def test_generation_finds_the_last_free_pin_and_then_gives_up() -> None:
    caps = replace(PLAIN, supported_code_lengths=(4,), code_constraints=("cannot_contain_0789",))
    every = {"".join(d) for d in itertools.product("123456", repeat=4)}
    last = "3625"
    assert generate_code(caps, random.Random(3), avoid=every - {last}) == last
    with pytest.raises(ValueError, match="no valid 4-digit PIN"):
        generate_code(caps, random.Random(3), avoid=every)
