import random

import pytest

from dedup.components import (
    UnionFind,
    finish,
    large_star,
    small_star,
    star_components,
    star_edges,
    union_find_labels,
)


def chain(n, offset=0):
    nodes = list(range(offset, offset + n))
    random.Random(n).shuffle(nodes)  # ids not in path order: the hard case for star rounds
    return list(zip(nodes, nodes[1:], strict=False))


def star(n, offset=0):
    return [(offset + n - 1, offset + i) for i in range(n - 1)]


def tiny_components(count, offset=0):
    return [(offset + 2 * i, offset + 2 * i + 1) for i in range(count)]


def random_graph(seed, nodes=80, edges=90):
    rng = random.Random(seed)
    return [(rng.randrange(nodes), rng.randrange(nodes)) for _ in range(edges)]


GRAPHS = {
    "chain": chain(50),
    "long_path": chain(600),
    "star_at_largest": star(40),
    "many_tiny": tiny_components(200),
    "mixed": chain(30) + star(20, 100) + tiny_components(30, 200) + [(29, 100)],
    **{f"random_{seed}": random_graph(seed) for seed in range(8)},
}


def reference(edges):
    return union_find_labels(edges)


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("rounds", [0, 1, 3, 12])
def test_star_rounds_then_finish_equal_union_find(name, rounds):
    edges = GRAPHS[name]
    labels, changes = star_components(edges, rounds)
    assert labels == reference(edges)
    assert len(changes) == rounds


def test_rounds_converge_and_counter_reaches_zero():
    edges = GRAPHS["long_path"]
    labels, changes = star_components(edges, 14)
    assert changes[0] > 0 and changes[-1] == 0
    assert labels == reference(edges)


def test_large_and_small_star_preserve_components():
    for name, edges in GRAPHS.items():
        expected = reference(edges)
        current = set(edges)
        for _ in range(3):
            current, _ = large_star(current)
            assert union_find_labels(current) == expected, name
            current, _ = small_star(current)
            assert union_find_labels(current) == expected, name


def test_settled_graph_has_no_changes():
    edges = {(5, 1), (7, 1), (9, 2)}  # two stars around their minima
    assert large_star(edges) == (edges, 0)
    assert small_star(edges) == (edges, 0)
    assert finish(edges) == {1: 1, 5: 1, 7: 1, 2: 2, 9: 2}


def test_star_edges_point_to_bucket_minimum():
    assert sorted(star_edges(["c", "a", "b"])) == [("b", "a"), ("c", "a")]
    assert list(star_edges(["x"])) == []


def test_union_find_root_is_smallest():
    uf = UnionFind()
    uf.union(9, 4)
    uf.union(4, 7)
    uf.union(2, 9)
    assert {uf.find(x) for x in (2, 4, 7, 9)} == {2}
    assert uf.find(100) == 100


def test_string_ids():
    edges = [("b", "c"), ("c", "d"), ("x", "y")]
    labels, _ = star_components(edges, 2)
    assert labels == {"b": "b", "c": "b", "d": "b", "x": "x", "y": "x"}


class Reiterable:
    """A group iterable like Beam's: re-iterable, never indexed; counts passes."""

    def __init__(self, values):
        self.values = values
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        return iter(self.values)


def test_node_steps_stream_their_group_in_at_most_two_passes():
    from dedup.components import large_star_node, node_state, small_star_node

    for step in (large_star_node, small_star_node, node_state):
        group = Reiterable(list(range(10, 1000)))
        result = step(500, group)
        if step is not node_state:
            assert len(list(result)) > 0
        assert group.passes <= 2
    bucket = Reiterable(["d", "b", "c"])
    assert sorted(star_edges(bucket)) == [("c", "b"), ("d", "b")]
    assert bucket.passes == 2
