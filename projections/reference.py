"""The reference view: categories, complexity levels, areas with their "covers" closure, commissioner types."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from ledger.framework.reference import ReferenceList
from projections.base import LoggedEvent, View, fetch_one


class ReferenceView(View):
    name = "reference"
    code_version = "1"
    tables = (
        "ref_service_categories",
        "ref_complexity_levels",
        "ref_areas",
        "ref_area_covers",
        "ref_commissioner_types",
    )

    def register(self) -> None:
        self.on(ReferenceList.ServiceCategoryDefined, self.category_defined)
        self.on(ReferenceList.ComplexityLevelDefined, self.complexity_level_defined)
        self.on(ReferenceList.AreaDefined, self.area_defined)
        self.on(ReferenceList.CommissionerTypeDefined, self.commissioner_type_defined)

    @staticmethod
    def category_defined(cur: Cursor[Any], logged: LoggedEvent) -> None:
        c = logged.event.category
        cur.execute(
            "INSERT INTO ref_service_categories (code, name, kind, complexity_levels, position)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
            " kind = excluded.kind, complexity_levels = excluded.complexity_levels, position = excluded.position",
            (c.code, c.name, str(c.kind), [str(level) for level in c.complexity_levels], logged.position),
        )

    @staticmethod
    def complexity_level_defined(cur: Cursor[Any], logged: LoggedEvent) -> None:
        level = logged.event.level
        cur.execute(
            "INSERT INTO ref_complexity_levels (code, name, rank, description, position)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
            " rank = excluded.rank, description = excluded.description, position = excluded.position",
            (str(level.code), level.name, level.rank, level.description, logged.position),
        )

    @staticmethod
    def area_defined(cur: Cursor[Any], logged: LoggedEvent) -> None:
        area = logged.event.area
        previous = fetch_one(cur, "SELECT parent_code FROM ref_areas WHERE code = %s", (area.code,))
        cur.execute(
            "INSERT INTO ref_areas (code, name, kind, parent_code, attributes, position)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
            " kind = excluded.kind, parent_code = excluded.parent_code, attributes = excluded.attributes,"
            " position = excluded.position",
            (area.code, area.name, str(area.kind), area.parent_code, Jsonb(area.attributes), logged.position),
        )
        if previous is None:
            # A new area is covered by itself and by everything that covers its parent.
            cur.execute(
                "INSERT INTO ref_area_covers (ancestor, descendant) SELECT %s, %s"
                " UNION SELECT ancestor, %s FROM ref_area_covers WHERE descendant = %s",
                (area.code, area.code, area.code, area.parent_code),
            )
        elif previous[0] != area.parent_code:
            # An area moved: recompute the whole closure (rare, and the tree is small).
            cur.execute("DELETE FROM ref_area_covers")
            cur.execute(
                "INSERT INTO ref_area_covers (ancestor, descendant)"
                " WITH RECURSIVE up(ancestor, descendant) AS ("
                "   SELECT code, code FROM ref_areas"
                "   UNION SELECT a.parent_code, up.descendant FROM up JOIN ref_areas a ON a.code = up.ancestor"
                "   WHERE a.parent_code IS NOT NULL)"
                " SELECT ancestor, descendant FROM up"
            )

    @staticmethod
    def commissioner_type_defined(cur: Cursor[Any], logged: LoggedEvent) -> None:
        t = logged.event.commissioner_type
        cur.execute(
            "INSERT INTO ref_commissioner_types (code, name, position) VALUES (%s, %s, %s)"
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, position = excluded.position",
            (t.code, t.name, logged.position),
        )
