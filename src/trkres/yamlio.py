"""Read YAML with positions, so errors can point at a line and column.

PyYAML's composed node tree keeps the start mark of every value. We keep it
beside the plain data and use it to turn a pydantic error location such as
``("inputs", 2, "path")`` into ``study.yaml, line 14, column 11``. Duplicate
mapping keys, which PyYAML silently overwrites, are reported as errors, and so
are alias bombs and recursive aliases. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from trkres.errors import InputError, Location, TrkresError

#: libyaml's loader (ten times faster) when PyYAML was built with it; same nodes and marks.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data with its node tree (for locating errors)."""

    path: Path
    data: Any
    root: yaml.Node | None

    def locate(self, loc: Sequence[int | str]) -> Location:
        """Return the file location of the value at ``loc`` (best effort).

        Walks as deep as the path exists; a missing key points at its parent
        mapping, which is where the user must add it.
        """
        node = self.root
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                nxt = None
                for k_node, v_node in node.value:
                    if k_node.value == str(key):
                        nxt = v_node
                        break
                if nxt is None:
                    break
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if 0 <= key < len(node.value):
                    node = node.value[key]
                else:
                    break
            else:
                break
        if node is None:
            return Location(file=self.path)
        mark = node.start_mark
        return Location(file=self.path, line=mark.line + 1, column=mark.column + 1)


#: Most nodes a YAML document may expand to once its aliases are followed: far
#: beyond any manifest, knowledge file or plate map, far below what would hang
#: a run ("billion laughs": a 1.7 KB file of nested aliases expands to 10^9).
MAX_EXPANDED_NODES = 1_000_000

#: Longest number a YAML file may hold (characters): Python refuses to convert
#: integers of more than 4,300 digits, and no dose or option needs 100.
MAX_NUMBER_CHARS = 100


def _check_tree(
    root: yaml.Node, path: Path, error_cls: type[TrkresError], limit: int = MAX_EXPANDED_NODES
) -> None:
    """Refuse duplicate mapping keys, recursive aliases and alias bombs.

    Each distinct node is visited once (aliases share nodes, so the walk is
    linear in the file), while the size the document *expands* to -- what a
    consumer walking the loaded data will touch -- is summed with multiplicity
    and bounded by ``limit``.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def where(node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(file=path, line=mark.line + 1, column=mark.column + 1)

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise error_cls(
                "recursive YAML alias",
                location=where(node),
                expected="aliases (*name) that refer to finished values",
                found="an alias inside the value it refers to",
            )
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for k_node, v_node in node.value:
                name = str(k_node.value)
                if name in seen:
                    first = seen[name].start_mark
                    raise error_cls(
                        f"duplicate key '{name}'",
                        location=where(k_node),
                        expected="each key once per mapping",
                        found=f"'{name}' again (first at line {first.line + 1})",
                    )
                seen[name] = k_node
                total += size(k_node) + size(v_node)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
        elif (
            isinstance(node, yaml.ScalarNode)
            and len(node.value) > MAX_NUMBER_CHARS
            and node.tag.endswith((":int", ":float"))
        ):
            raise error_cls(
                "number too long",
                location=where(node),
                expected=f"a number of at most {MAX_NUMBER_CHARS} characters",
                found=f"a number of {len(node.value):,} digits",
            )
        active.discard(key)
        if total > limit:
            raise error_cls(
                "YAML expands to too many values",
                location=where(node),
                expected=f"at most {limit:,} values once aliases (*name) are expanded",
                found=f"more than {limit:,} (nested aliases: a 'billion laughs' document?)",
            )
        sizes[key] = total
        return total

    size(root)


def _decode(raw: bytes, path: Path, error_cls: type[TrkresError]) -> str:
    """UTF-8 text of a YAML file (a byte-order mark dropped, gzip opened)."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise error_cls(
                "cannot read gzip file",
                location=Location(file=path),
                expected="a complete gzip-compressed YAML file",
                found=str(exc),
            ) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error_cls(
            "file is not UTF-8 text",
            location=Location(file=path, line=line, column=column),
            expected="UTF-8 text (YAML)",
            found=f"byte 0x{raw[exc.start]:02x}",
            hint="save the file as UTF-8",
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise error_cls(
            "file holds a NUL character",
            location=Location(file=path, line=line, column=column),
            expected="YAML text",
            found="a NUL byte (a binary file?)",
        )
    return text


def read_yaml(path: Path, error_cls: type[TrkresError] = InputError) -> YamlDocument:
    """Read a YAML file into data plus positions.

    Raises ``error_cls`` (an :class:`InputError` by default) for a missing or
    unreadable file, a YAML syntax error (with its line and column) and
    duplicate keys.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error_cls(
            "file not found", location=Location(file=path), expected="an existing YAML file"
        ) from None
    except OSError as exc:
        raise error_cls(
            f"cannot read file: {exc.strerror}",
            location=Location(file=path),
            expected="a readable YAML file",
        ) from None
    return parse_yaml(_decode(raw, path, error_cls), path, error_cls)


def parse_yaml(text: str, path: Path, error_cls: type[TrkresError] = InputError) -> YamlDocument:
    """Parse YAML text (see :func:`read_yaml`); ``path`` is used in messages."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_tree(root, path, error_cls)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file=path)
        if mark is not None:
            loc = Location(file=path, line=mark.line + 1, column=mark.column + 1)
        raise error_cls(
            f"invalid YAML: {exc.problem or exc.context}",
            location=loc,
            expected="well-formed YAML",
            found=(exc.context or "").strip() or None,
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise error_cls(f"invalid YAML: {exc}", location=Location(file=path)) from None
    finally:
        loader.dispose()
    return YamlDocument(path=path, data=data, root=root)


def _describe_input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validation_error(
    exc: ValidationError,
    doc: YamlDocument,
    error_cls: type[TrkresError],
    what: str,
    prefix: tuple[str | int, ...] = (),
) -> TrkresError:
    """Turn a pydantic ``ValidationError`` into one located trkres error.

    The first problem becomes the message with its line and column; the others
    are listed as details so the user can fix them in one pass. ``prefix``: where the
    validated mapping sits in the document (``("options", "evolution")``).
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    location = doc.locate((*prefix, *loc))
    field = ".".join(str(p) for p in loc) or "(document)"
    details = []
    for err in errors[1:]:
        other_loc = tuple(err["loc"])
        where = doc.locate((*prefix, *other_loc))
        details.append(
            f"also: line {where.line}: {'.'.join(str(p) for p in other_loc)}: {err['msg']}"
        )
    found = None if first["type"] == "missing" else _describe_input(first.get("input"))
    return error_cls(
        f"invalid {what}: {field}: {first['msg']}",
        location=location,
        expected=_expected_for(first),
        found=found,
        details=details,
    )


def _expected_for(err: Any) -> str | None:
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return str(ctx["expected"])
    kind = err["type"]
    if kind == "missing":
        return f"a value for '{err['loc'][-1]}'"
    if kind == "extra_forbidden":
        return "only the documented keys (check spelling)"
    bounds = {"greater_than": "> {gt}", "greater_than_equal": ">= {ge}", "less_than": "< {lt}",
              "less_than_equal": "<= {le}"}  # fmt: skip
    if kind in bounds:
        return "a number " + bounds[kind].format(**ctx)
    return None
