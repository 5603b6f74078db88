"""YAML that remembers where each value came from, so every error can name ``file:line: field``.

PyYAML's composer gives nodes with marks; we build plain Python data from them and keep a map from the
path of each value (``("circuits", 3, "device")``) to its 1-based line. Duplicate keys, which plain
``yaml.safe_load`` silently lets the last one win, are an error here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from noc.errors import Problem, ValidationFailed

Path = tuple[str | int, ...]

# Guards against alias bombs ("billion laughs"), self-referencing aliases and absurdly large or deep documents.
MAX_NODES = 2_000_000
MAX_DEPTH = 64
# How many more values aliases may add to those written out, counted on the composed graph before anything is
# built: a bomb is refused in milliseconds, not after seconds and hundreds of megabytes of expansion.
MAX_ALIAS_EXPANSION = 100_000


@dataclass(frozen=True, slots=True)
class Located:
    data: Any
    lines: dict[Path, int]
    source: str

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest known prefix of ``path`` (a missing field points at its parent)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)

    def problem(self, path: Sequence[str | int], reason: str) -> Problem:
        return Problem(self.source, self.line_of(path), format_path(path), reason)


def format_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def node_counts(root: yaml.Node) -> tuple[int, int]:
    """The values written in the document (each node once) and the values building it would make (an alias
    counts its anchor's whole subtree again), without building anything: each node's expanded size is computed
    once, iteratively (no recursion however deep), and capped (a cycle, reported by ``load``, counts as one)."""
    cap = MAX_NODES + 1
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, children_done = pending.pop()
        key = id(node)
        if children_done:
            size[key] = min(cap, 1 + sum(size.get(id(c), 1) for c in _children(node)))
            open_nodes.discard(key)
        elif key not in size and key not in open_nodes:
            open_nodes.add(key)
            pending.append((node, True))
            pending.extend((c, False) for c in _children(node))
    return len(size), size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load(text: str, source: str) -> Located:
    """Parse ``text``; raise ValidationFailed with a located problem for malformed YAML or duplicate keys."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ValidationFailed([Problem(source, line, "", f"malformed YAML: {exc.problem or exc.context}")]) from exc
    except yaml.YAMLError as exc:
        raise ValidationFailed([Problem(source, None, "", f"malformed YAML: {exc}")]) from exc
    except RecursionError as exc:  # PyYAML's composer recurses per nesting level
        raise ValidationFailed([Problem(source, None, "", "nested too deeply")]) from exc
    lines: dict[Path, int] = {}
    if root is None:
        return Located(None, lines, source)
    written, expanded = node_counts(root)
    if expanded > written + MAX_ALIAS_EXPANSION:
        reason = f"aliases would expand {written} values to more than {written + MAX_ALIAS_EXPANSION}: refused"
        raise ValidationFailed([Problem(source, root.start_mark.line + 1, "", reason)])
    constructor = yaml.SafeLoader("")
    problems: list[Problem] = []
    budget = [MAX_NODES]
    open_nodes: set[int] = set()  # the nodes being built on the current path: an alias back to one is a cycle

    def build(node: yaml.Node, path: Path) -> Any:
        budget[0] -= 1
        line = node.start_mark.line + 1
        if budget[0] < 0:
            raise ValidationFailed([Problem(source, line, "", "document too large")])
        if len(path) > MAX_DEPTH:
            raise ValidationFailed([Problem(source, line, format_path(path[:MAX_DEPTH]), "nested too deeply")])
        if id(node) in open_nodes:
            raise ValidationFailed([Problem(source, line, format_path(path), "an alias refers to itself")])
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            open_nodes.add(id(node))
            try:
                return build_collection(node, path)
            finally:
                open_nodes.discard(id(node))
        lines[path] = line
        try:
            return constructor.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            problems.append(Problem(source, line, format_path(path), f"bad value: {exc.problem}"))
            return None

    def build_collection(node: yaml.MappingNode | yaml.SequenceNode, path: Path) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    problems.append(
                        Problem(source, key_node.start_mark.line + 1, format_path(path), "keys must be plain")
                    )
                    continue
                key = constructor.construct_object(key_node)
                if key in result:
                    problems.append(
                        Problem(source, key_node.start_mark.line + 1, format_path((*path, key)), "duplicate key")
                    )
                    continue
                result[key] = build(value_node, (*path, key))
            return result
        return [build(item, (*path, i)) for i, item in enumerate(node.value)]

    data = build(root, ())
    if problems:
        raise ValidationFailed(problems)
    return Located(data, lines, source)
