"""Connected components by large-star / small-star rounds (Kiveris et al. 2014), plus the
union-find that finishes a small residual in memory and serves as the reference.

Edges are pairs of comparable node ids, stored canonically as (larger, smaller). The per-node
steps take a re-iterable of neighbours (a Beam GroupByKey iterable) and stream it twice: once
for the minimum, once to emit, so a hub with millions of neighbours never sits in a list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator

Edge = tuple[Hashable, Hashable]


def canonical(a, b) -> Edge:
    """The edge as (larger, smaller)."""
    return (a, b) if a > b else (b, a)


def star_edges(members: Iterable) -> Iterator[Edge]:
    """Edges from every member of one LSH bucket to its smallest member (two passes)."""
    smallest = min(members, default=None)
    for member in members:
        if member != smallest:
            yield (member, smallest)


def large_star_node(node, neighbours: Iterable) -> Iterator[Edge]:
    """Large-star at `node`: its larger neighbours re-attach to min(node, neighbours).

    An emitted edge (v, m) is a change when m is not `node` (see `large_star_changed`).
    """
    smallest = min(min(neighbours, default=node), node)
    for v in neighbours:
        if v > node:
            yield (v, smallest)


def large_star_changed(node, edge: Edge) -> bool:
    """Whether a large-star edge at `node` rewired a neighbour away from it."""
    return edge[1] != node


def small_star_node(node, smaller: Iterable) -> Iterator[Edge]:
    """Small-star at `node` given its smaller neighbours: all of them and `node` re-attach to
    the smallest. Edges from a neighbour other than `node` are changes (`small_star_changed`)."""
    smallest = min(smaller, default=node)
    for v in smaller:
        if v != smallest:
            yield (v, smallest)
    if smallest != node:
        yield (node, smallest)


def small_star_changed(node, edge: Edge) -> bool:
    """Whether a small-star edge at `node` rewired one of its smaller neighbours."""
    return edge[0] != node


def _adjacency(edges: Iterable[Edge]) -> dict:
    neighbours: dict = defaultdict(list)
    for a, b in edges:
        if a != b:
            neighbours[a].append(b)
            neighbours[b].append(a)
    return neighbours


def large_star(edges: Iterable[Edge]) -> tuple[set[Edge], int]:
    """One large-star step over an edge list: (distinct canonical edges, changed count)."""
    out: set[Edge] = set()
    changed = 0
    for node, neighbours in _adjacency(edges).items():
        for edge in large_star_node(node, neighbours):
            out.add(canonical(*edge))
            changed += large_star_changed(node, edge)
    return out, changed


def small_star(edges: Iterable[Edge]) -> tuple[set[Edge], int]:
    """One small-star step over an edge list: (distinct canonical edges, changed count)."""
    smaller: dict = defaultdict(list)
    for a, b in edges:
        if a != b:
            hi, lo = canonical(a, b)
            smaller[hi].append(lo)
    out: set[Edge] = set()
    changed = 0
    for node, lower in smaller.items():
        for edge in small_star_node(node, lower):
            out.add(canonical(*edge))
            changed += small_star_changed(node, edge)
    return out, changed


def node_state(node, neighbours: Iterable) -> tuple[object, bool]:
    """(parent, unsettled) of a node in a distinct canonical edge set.

    A settled graph is a forest of stars around each component's minimum: every node has
    either no smaller neighbour (a centre) or exactly one and no larger one (a leaf). A node
    breaking that is unsettled; its edges form the residual. A settled node's parent is its
    centre (itself for a centre).
    """
    smaller = larger = 0
    parent = node
    for v in neighbours:
        if v < node:
            smaller += 1
            parent = v if smaller == 1 else min(parent, v)
        elif v > node:
            larger += 1
    unsettled = smaller >= 2 or (smaller >= 1 and larger >= 1)
    return (node if unsettled else parent), unsettled


class UnionFind:
    """Union-find whose root is always the smallest node of the set."""

    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        """Root (smallest node) of x's set; x itself if never seen."""
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a, b) -> None:
        """Merge the sets of a and b under the smaller root."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if rb < ra:
            ra, rb = rb, ra
        self.parent.setdefault(ra, ra)
        self.parent[rb] = ra

    def labels(self) -> dict:
        """Every seen node -> its root."""
        return {x: self.find(x) for x in list(self.parent)}


def union_find_labels(edges: Iterable[Edge]) -> dict:
    """Node -> smallest node of its component, for every node on an edge (the reference)."""
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    return uf.labels()


def finish(edges: Iterable[Edge]) -> dict:
    """Labels from any edge set: settled nodes follow their centre, the unsettled residual
    is resolved by union-find (exact whatever the number of star rounds before it)."""
    edges = set(canonical(a, b) for a, b in edges if a != b)
    adjacency = _adjacency(edges)
    parents, residual = {}, UnionFind()
    for node, neighbours in adjacency.items():
        parent, unsettled = node_state(node, neighbours)
        parents[node] = parent
        if unsettled:
            for v in neighbours:
                residual.union(node, v)
    return {node: residual.find(parent) for node, parent in parents.items()}


def star_components(edges: Iterable[Edge], rounds: int) -> tuple[dict, list[int]]:
    """`rounds` large-star + small-star rounds, then `finish`: (labels, changed per round)."""
    current = set(canonical(a, b) for a, b in edges if a != b)
    changes = []
    for _ in range(rounds):
        current, large = large_star(current)
        current, small = small_star(current)
        changes.append(large + small)
    return finish(current), changes
