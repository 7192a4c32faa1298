"""PIN and name rules: which codes a lock accepts, and how to generate one it will.

Rules are Seam's `code_constraints` (`constraint_type` strings) plus the lock's supported lengths.
Constraints that are not about the PIN's digits (`cannot_specify_pin_code`,
`pin_code_matches_existing_set`, `start_date_in_future`, `name_length`) are checked elsewhere:
`start_date_in_future` by `window_violations`, names by `name_violations`, and whether a PIN may be
chosen at all by `Capabilities.pin_generated_by_provider`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from types import MappingProxyType

from pinwarden.domain.model import Capabilities

DIGITS = "0123456789"


def _has_triple_run(code: str) -> bool:
    """Three digits in a row that are identical or consecutive (`111`, `345`, `543`)."""
    values = [int(c) for c in code]
    for a, b, c in zip(values, values[1:], values[2:], strict=False):
        if b - a == c - b and abs(b - a) <= 1:
            return True
    return False


def is_straight_sequence(code: str) -> bool:
    """The whole PIN counts up or down by one (`1234`, `98765`)."""
    if len(code) < 2:
        return False
    steps = {int(b) - int(a) for a, b in itertools.pairwise(code)}
    return steps in ({1}, {-1})


def is_all_same_digit(code: str) -> bool:
    return len(set(code)) == 1


# constraint_type -> (breaks the rule?, what the person must do)
_DIGIT_RULES: Mapping[str, tuple[Callable[[str], bool], str]] = MappingProxyType(
    {
        "no_zeros": (lambda c: "0" in c, "must not contain the digit 0"),
        "cannot_start_with_12": (lambda c: c.startswith("12"), "must not start with 12"),
        "no_triple_consecutive_ints": (
            _has_triple_run,
            "must not contain three identical or consecutive digits in a row (like 111 or 345)",
        ),
        "no_ascending_or_descending_sequence": (
            is_straight_sequence,
            "must not be a straight ascending or descending sequence (like 1234 or 4321)",
        ),
        "at_least_three_unique_digits": (
            lambda c: len(set(c)) < 3,
            "must use at least three different digits",
        ),
        "cannot_contain_089": (
            lambda c: any(d in c for d in "089"),
            "must not contain the digits 0, 8 or 9",
        ),
        "cannot_contain_0789": (
            lambda c: any(d in c for d in "0789"),
            "must not contain the digits 0, 7, 8 or 9",
        ),
        "no_all_same_digits": (is_all_same_digit, "must not repeat one digit throughout"),
    }
)

_BANNED_DIGITS: Mapping[str, str] = MappingProxyType(
    {"no_zeros": "0", "cannot_contain_089": "089", "cannot_contain_0789": "0789"}
)


def _lengths_text(lengths: Collection[int]) -> str:
    ordered = sorted(lengths)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]} to {ordered[-1]}"
    return " or ".join(str(n) for n in ordered)


def code_violations(
    code: str, caps: Capabilities, *, programming_code: str | None = None
) -> list[str]:
    """Every rule `code` breaks on a lock with `caps`; empty when the lock accepts it.

    `programming_code` is the lock's master code, needed for `unique_first_four_digits` (Schlage).
    Each message ends with the rule's name in parentheses.
    """
    problems: list[str] = []
    if not code or any(ch not in DIGITS for ch in code):
        problems.append("PIN must contain only the digits 0-9 (digits_only)")
    if len(code) not in caps.supported_code_lengths:
        problems.append(
            f"PIN must be {_lengths_text(caps.supported_code_lengths)} digits long, "
            f"not {len(code)} (supported_code_lengths)"
        )
    if problems:
        return problems
    for constraint in caps.code_constraints:
        rule = _DIGIT_RULES.get(constraint)
        if rule is not None and rule[0](code):
            problems.append(f"PIN {rule[1]} ({constraint})")
    if (
        "unique_first_four_digits" in caps.code_constraints
        and programming_code is not None
        and code[:4] == programming_code[:4]
    ):
        problems.append(
            "PIN's first four digits must differ from the lock's programming code "
            "(unique_first_four_digits)"
        )
    return problems


def name_violations(name: str, caps: Capabilities) -> list[str]:
    """Every rule the code's name breaks; empty when the lock accepts it."""
    problems: list[str] = []
    if caps.name_min_length is not None and len(name) < caps.name_min_length:
        problems.append(f"name must be at least {caps.name_min_length} characters (name_length)")
    if caps.name_max_length is not None and len(name) > caps.name_max_length:
        problems.append(f"name must be at most {caps.name_max_length} characters (name_length)")
    return problems


def window_violations(
    caps: Capabilities, now: datetime, starts_at: datetime | None, ends_at: datetime | None
) -> list[str]:
    """Rules a time window breaks on a lock that stores windows natively."""
    problems: list[str] = []
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        problems.append("ends_at must be after starts_at")
    if (
        "start_date_in_future" in caps.code_constraints
        and starts_at is not None
        and starts_at < now
    ):
        problems.append("starts_at must be in the future (start_date_in_future)")
    return problems


def is_weak(code: str) -> bool:
    """PINs a guesser tries first; never generated even where the lock allows them."""
    return is_all_same_digit(code) or is_straight_sequence(code)


def _choose_length(caps: Capabilities, preferred_length: int | None) -> int:
    if not caps.supported_code_lengths:
        raise ValueError(f"{caps.brand} lock reports no supported code lengths")
    if preferred_length is not None and preferred_length in caps.supported_code_lengths:
        return preferred_length
    return min(caps.supported_code_lengths)


_RANDOM_ATTEMPTS = 2000
_MAX_EXHAUSTIVE_LENGTH = 6


def generate_code(
    caps: Capabilities,
    rng: random.Random,
    *,
    preferred_length: int | None = None,
    avoid: Collection[str] = (),
    programming_code: str | None = None,
) -> str:
    """A PIN the lock accepts that is not weak and not in `avoid`; deterministic given `rng`.

    Uses `preferred_length` when the lock supports it, else the shortest supported length. Where
    the lock needs unique first four digits, also avoids the first four digits of `avoid` and
    `programming_code`. Raises ValueError when no such PIN exists.
    """
    length = _choose_length(caps, preferred_length)
    banned = "".join(_BANNED_DIGITS.get(c, "") for c in caps.code_constraints)
    alphabet = "".join(d for d in DIGITS if d not in banned)
    avoid_set = set(avoid)
    taken_prefixes: set[str] = set()
    if "unique_first_four_digits" in caps.code_constraints:
        taken_prefixes = {a[:4] for a in avoid_set}
        if programming_code is not None:
            taken_prefixes.add(programming_code[:4])

    def acceptable(candidate: str) -> bool:
        return (
            candidate not in avoid_set
            and candidate[:4] not in taken_prefixes
            and not is_weak(candidate)
            and not code_violations(candidate, caps, programming_code=programming_code)
        )

    for _ in range(_RANDOM_ATTEMPTS):
        candidate = "".join(rng.choice(alphabet) for _ in range(length))
        if acceptable(candidate):
            return candidate
    if length <= _MAX_EXHAUSTIVE_LENGTH:
        for digits in itertools.product(alphabet, repeat=length):
            candidate = "".join(digits)
            if acceptable(candidate):
                return candidate
    raise ValueError(f"no valid {length}-digit PIN is left for this {caps.brand} lock")
