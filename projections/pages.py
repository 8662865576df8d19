"""Lists read a page at a time: ordered by a key and an id, cut by an opaque cursor (keyset paging).

A cursor names the last item of the page before (its key and id), so a page costs the same however deep
in the list it is, and items recorded meanwhile neither repeat nor vanish from the pages still to come.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from projections.sql import Where


class BadCursor(ValueError):
    """A cursor this list did not hand out."""


@dataclass(frozen=True)
class Cursor:
    key: date | datetime
    id: UUID

    def token(self) -> str:
        return base64.urlsafe_b64encode(f"{self.key.isoformat()}|{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str, key_type: type[date] | type[datetime]) -> Cursor:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            key, ident = text.split("|")
            parsed: date | datetime = key_type.fromisoformat(key)
            if key_type is datetime and parsed.tzinfo is None:  # type: ignore[union-attr]
                raise ValueError("naive time")
            return cls(parsed, UUID(ident))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadCursor("not a cursor of this list: pass the next_after of the page before") from None


@dataclass(frozen=True)
class Listing:
    """One list: the rows of `source` (SQL with aliases) matching `where`, ordered by `key` then `ident`.

    `decorate` wraps the page's rows (the subquery `x`, its `page_key` and `page_id`, then every column of
    `columns`) with what only the page needs: joins to personal data, per-row aggregates.
    """

    source: str
    where: Where
    key: str
    ident: str
    columns: str
    key_type: type[date] | type[datetime]
    decorate: str = "SELECT * FROM ({page}) x"
    descending: bool = False
    column_params: list[Any] = field(default_factory=list)  # the parameters of `columns`

    def count(self) -> tuple[str, list[Any]]:
        return f"SELECT count(*) AS n FROM {self.source} WHERE {self.where.sql}", self.where.params

    def page(self, after: Cursor | None, limit: int) -> tuple[str, list[Any]]:
        """The page after `after`: `limit` rows and one more, which says whether there is a next page."""
        direction, beyond = ("DESC", "<") if self.descending else ("ASC", ">")
        where = self.where
        if after is not None:
            where = where.add(f"({self.key}, {self.ident}) {beyond} (%s, %s)", after.key, after.id)
        inner = (
            f"SELECT {self.key} AS page_key, {self.ident} AS page_id, {self.columns} FROM {self.source}"
            f" WHERE {where.sql} ORDER BY {self.key} {direction}, {self.ident} {direction} LIMIT %s"
        )
        sql = self.decorate.format(page=inner) + f" ORDER BY x.page_key {direction}, x.page_id {direction}"
        return sql, [*self.column_params, *where.params, limit + 1]


def cut(rows: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The page's rows (their paging columns removed) and the cursor of the next page, if there is one."""
    more, rows = len(rows) > limit, rows[:limit]
    after = Cursor(rows[-1]["page_key"], rows[-1]["page_id"]).token() if more else None
    for row in rows:
        del row["page_key"], row["page_id"]
    return rows, after
