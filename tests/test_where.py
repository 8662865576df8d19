"""The WHERE clause the views' queries build from filters that may be absent (`projections.sql.Where`)."""

from __future__ import annotations

import pytest

from ledger.errors import ProgrammingError
from projections.sql import Where


def test_a_filter_not_given_leaves_nothing_in_the_sql() -> None:
    where = Where().given(None, "supplier_id = %s").given("region-a", "region = %s")
    assert (where.sql, where.params) == ("region = %s", ["region-a"])


def test_no_filter_at_all_is_true() -> None:
    assert (Where().sql, Where().params) == ("true", [])


def test_each_placeholder_of_a_condition_takes_the_filters_value_unless_told_otherwise() -> None:
    where = Where().given("ete", "(need = %s OR cohort = %s)").given("A%", "name ILIKE %s", "%A\\%%")
    assert where.sql == "(need = %s OR cohort = %s) AND name ILIKE %s"
    assert where.params == ["ete", "ete", "%A\\%%"]


def test_an_empty_filter_is_given_unless_empty_is_absent() -> None:
    assert Where().given("", "status = %s").params == [""]
    assert Where(empty_is_absent=True).given("", "status = %s").given(False, "live").sql == "true"


def test_a_condition_kept_whatever_the_filters_and_one_without_placeholders() -> None:
    where = Where().add("topic = ANY(%s)", ["a", "b"]).given("cw-1", "false")
    assert (where.sql, where.params) == ("topic = ANY(%s) AND false", [["a", "b"]])


def test_named_placeholders_keep_the_querys_own_parameters() -> None:
    where = Where(named={"day": "2026-01-01"}).given("region-a", "%(region)s = ANY(regions)", region="region-a")
    assert where.params == {"day": "2026-01-01", "region": "region-a"}
    with pytest.raises(ProgrammingError):
        where.add("x = %s", 1)


def test_two_clauses_joined_keep_their_order_and_each_is_left_as_it_was() -> None:
    first = Where().add("a.notify")
    both = first & Where().given(7, "r.region = %s")
    assert (both.sql, both.params) == ("a.notify AND r.region = %s", [7])
    assert first.sql == "a.notify"
    with pytest.raises(ProgrammingError):
        Where() & Where(named={})
