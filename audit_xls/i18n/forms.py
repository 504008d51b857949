"""The two shapes a catalogue entry or parameter can take besides plain text."""

from __future__ import annotations

from typing import Any, NamedTuple


class Plural(NamedTuple):
    """An entry with a singular and a plural form, chosen by the `count` parameter."""

    one: str
    other: str


class Ref(NamedTuple):
    """A parameter that is itself a catalogue entry, rendered in the reader's language."""

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def to(cls, key: str, **params: Any) -> Ref:
        return cls(key, tuple(params.items()))


class Lines(tuple):
    """A list parameter shown one item a line."""

    __slots__ = ()


class Clauses(tuple):
    """A list parameter whose items are clauses: joined with ；/; rather than 、/, ."""

    __slots__ = ()
