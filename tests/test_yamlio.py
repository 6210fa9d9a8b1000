"""YAML positions: every value of any document is located on its own line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from trkres.yamlio import parse_yaml

keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
scalars = st.one_of(st.integers(), st.booleans(), st.from_regex(r"[a-z]{1,6}", fullmatch=True))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=4),
        st.dictionaries(keys, children, min_size=1, max_size=4),
    ),
    max_leaves=20,
)


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in _leaves(v, (*path, i))]
    return [(path, data)]


@given(st.dictionaries(keys, documents, min_size=1, max_size=5))
def test_every_leaf_is_located_where_its_value_is(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
    doc = parse_yaml(text, Path("x.yaml"))
    assert doc.data == data
    lines = text.split("\n")
    for path, value in _leaves(data):
        loc = doc.locate(path)
        assert loc.line is not None and loc.column is not None
        rendered = yaml.safe_dump(value).split("\n")[0].removesuffix(" ...").strip()
        assert lines[loc.line - 1][loc.column - 1 :].startswith(rendered)
