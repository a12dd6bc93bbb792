"""Dedup as Beam shuffles: exact-document, MinHash (LSH + connected components) and URL.

Every stage keeps the smallest document id of a duplicate group; ids sort earliest crawl
first (pipeline.document.document_id), so the earliest capture survives. Nothing here holds
a group, a bucket or the graph in one list: group iterables are streamed (twice where a
minimum is needed first; Beam's GroupByKey iterables are re-iterable).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from dedup.components import (
    UnionFind,
    canonical,
    large_star_changed,
    large_star_node,
    node_state,
    small_star_changed,
    small_star_node,
    star_edges,
)
from dedup.exact_doc import text_key
from dedup.minhash import PRESETS, MinHasher, MinHashParams
from dedup.shingles import jaccard, shingle_hashes
from dedup.url import canonical_url
from pipeline.beam.transforms import DROPPED, STATS, _Counting, sample_of
from pipeline.document import Document
from pipeline.stats import length_bucket

EXACT_DEDUP = "exact_dedup"
MINHASH = "minhash"
URL_DEDUP = "url_dedup"
EXACT_DUPLICATE = "exact_duplicate"
NEAR_DUPLICATE = "near_duplicate"
DUPLICATE_URL = "duplicate_url"
# Drop reasons per dedup stage, for stage_plan.
DEDUP_REASONS = {
    EXACT_DEDUP: (EXACT_DUPLICATE,),
    MINHASH: (NEAR_DUPLICATE,),
    URL_DEDUP: (DUPLICATE_URL,),
}
RESIDUAL = "residual"


class ConvergenceError(RuntimeError):
    """Connected components did not settle within the rounds and the residual budget."""


@dataclass(frozen=True)
class MinHashSettings:
    """The minhash stage's parameters (the config's `dedup` section)."""

    params: MinHashParams = PRESETS["refinedweb"]
    rounds: int = 3
    residual_budget: int = 1_000_000
    audit_pairs: int = 8
    batch_size: int = 64

    @classmethod
    def from_config(cls, section: dict) -> MinHashSettings:
        """Settings from the `dedup` config section (bands/rows override the preset)."""
        preset = PRESETS[section["minhash_preset"]]
        params = MinHashParams(
            bands=section["bands"] or preset.bands,
            rows=section["rows"] or preset.rows,
            ngram=section["ngram"],
            seed=section["seed"],
        )
        return cls(
            params=params,
            rounds=section["rounds"],
            residual_budget=section["residual_budget"],
            audit_pairs=section["audit_pairs"],
            batch_size=section["batch_size"],
        )


def _rank(doc_id: str) -> str:
    """A deterministic pseudo-random order for sampling."""
    return hashlib.blake2b(doc_id.encode(), digest_size=8).hexdigest()


def _words(doc: Document) -> int:
    return len(doc.text.split()) if doc.text else 0


# --- exact-document and URL dedup: key, group, keep the smallest id -----------------------


class KeepSmallest(_Counting):
    """(key, documents) -> the smallest-id document kept, the others dropped with `reason`."""

    def __init__(self, stage: str, reason: str):
        self.stage = stage
        self.reason = reason

    def process(self, item):
        _, docs = item
        smallest = min(doc.id for doc in docs)
        kept = False
        counts = self.counts
        for doc in docs:
            counts[("stage", self.stage, "in")] += 1
            if doc.id == smallest and not kept:
                kept = True
                counts[("stage", self.stage, "out")] += 1
                counts[("stage", self.stage, "words_out")] += _words(doc)
                yield doc
                continue
            counts[("stage", self.stage, "dropped", self.reason)] += 1
            sample = sample_of(doc, self.stage, self.reason, f"kept {smallest}")
            yield TaggedOutput(DROPPED, (f"{self.stage}/{self.reason}", sample))


def keep_smallest_per_key(docs, stage: str, reason: str, key_fn):
    """Group documents by `key_fn(doc)`, keep the smallest id: (docs, stats, dropped)."""
    result = (
        docs
        | f"Key {stage}" >> beam.Map(lambda doc: (key_fn(doc), doc))
        | f"Group {stage}" >> beam.GroupByKey()
        | f"Keep smallest {stage}"
        >> beam.ParDo(KeepSmallest(stage, reason)).with_outputs(STATS, DROPPED, main="kept")
    )
    return result.kept, result[STATS], result[DROPPED]


def _text_key(doc: Document) -> bytes:
    return text_key(doc.text)


def _url_key(doc: Document) -> str:
    return canonical_url(doc.url)


def exact_dedup(docs):
    """Exact-document dedup on the hash of the normalised text."""
    return keep_smallest_per_key(docs, EXACT_DEDUP, EXACT_DUPLICATE, _text_key)


def url_dedup(docs):
    """URL dedup on the canonical URL (RefinedWeb §3.3: one capture per URL across crawls)."""
    return keep_smallest_per_key(docs, URL_DEDUP, DUPLICATE_URL, _url_key)


# --- MinHash ------------------------------------------------------------------------------


class BandKeys(_Counting):
    """A batch of documents -> ((band, band hash) key, doc id) pairs; never the signature."""

    def __init__(self, params: MinHashParams):
        self.params = params

    def setup(self):
        self.hasher = MinHasher(self.params)

    def process(self, batch: list[Document]):
        keys = self.hasher.band_keys([doc.text for doc in batch])
        for doc, doc_keys in zip(batch, keys, strict=True):
            if not doc_keys:
                self.counts[("dedup", MINHASH, "documents_without_shingles")] += 1
            for key in doc_keys:
                yield key, doc.id


class BucketStars(_Counting):
    """(band key, ids) -> edges from each member to the bucket's smallest id."""

    def process(self, item):
        _, ids = item
        for edge in star_edges(ids):
            self.counts[("dedup", MINHASH, "bucket_edges")] += 1
            yield edge


class StarStep(_Counting):
    """One large-star or small-star step at one node; counts the edges it rewires."""

    def __init__(self, step, changed, counter: str):
        self.step = step
        self.changed = changed
        self.counter = counter

    def process(self, item):
        node, neighbours = item
        changed = 0
        for edge in self.step(node, neighbours):
            changed += self.changed(node, edge)
            yield canonical(*edge)
        self.counts[("dedup", MINHASH, self.counter)] += changed


def _both_directions(edge):
    a, b = edge
    return [(a, b), (b, a)]


class NodeState(beam.DoFn):
    """(node, neighbours) -> (node, parent); an unsettled node's edges go to the residual."""

    def process(self, item):
        node, neighbours = item
        parent, unsettled = node_state(node, neighbours)
        yield node, parent
        if unsettled:
            for v in neighbours:
                yield TaggedOutput(RESIDUAL, canonical(node, v))


class ResolveResidual(_Counting):
    """Union-find over the residual edges in one worker, if they fit the budget."""

    def __init__(self, budget: int, rounds: int):
        self.budget = budget
        self.rounds = rounds

    def process(self, _, size, residual):
        self.counts[("dedup", MINHASH, "residual_edges")] += size
        self.counts[("dedup", MINHASH, "rounds")] += self.rounds
        if size > self.budget:
            raise ConvergenceError(
                f"minhash: {size:,} edges still unsettled after {self.rounds} star rounds, over "
                f"the in-memory budget of {self.budget:,}; raise dedup.rounds or "
                "dedup.residual_budget"
            )
        uf = UnionFind()
        for a, b in residual:
            uf.union(a, b)
        yield from uf.labels().items()


class Relabel(beam.DoFn):
    """(parent, [("child", node)..., ("root", root)]) -> (node, label) for every child."""

    def process(self, item):
        parent, values = item
        label = parent
        for tag, value in values:
            if tag == "root":
                label = value
        for tag, value in values:
            if tag == "child":
                yield value, label


class ApplyLabels(_Counting):
    """(id, documents and labels) -> kept documents; non-minimum members dropped."""

    def process(self, item):
        _, values = item
        docs, label = [], None
        for tag, value in values:
            if tag == "doc":
                docs.append(value)
            else:
                label = value
        counts = self.counts
        for doc in docs:
            counts[("stage", MINHASH, "in")] += 1
            if label is None:
                counts[("stage", MINHASH, "out")] += 1
                counts[("stage", MINHASH, "words_out")] += _words(doc)
                yield doc
                continue
            counts[("stage", MINHASH, "dropped", NEAR_DUPLICATE)] += 1
            sample = sample_of(doc, MINHASH, NEAR_DUPLICATE, f"kept {label}")
            yield TaggedOutput(DROPPED, (f"{MINHASH}/{NEAR_DUPLICATE}", sample))


class ClusterSizes(_Counting):
    """(cluster minimum, dropped members) -> the cluster-size histogram."""

    def process(self, item):
        _, dropped = item
        self.counts[("hist", "minhash_cluster_size", length_bucket(dropped + 1))] += 1
        self.counts[("dedup", MINHASH, "clusters")] += 1


class AuditShingles(beam.DoFn):
    """Documents named in the sampled pairs -> (pair index, (role, id, url, shingles))."""

    def __init__(self, ngram: int):
        self.ngram = ngram

    def process(self, doc: Document, pairs):
        for index, (dropped, kept) in enumerate(pairs):
            for role, wanted in (("dropped", dropped), ("kept", kept)):
                if doc.id == wanted:
                    yield index, (role, doc.id, doc.url, shingle_hashes(doc.text, self.ngram))


def _audit_records(item) -> list[dict]:
    _, members = item
    by_role = {role: (doc_id, url, shingles) for role, doc_id, url, shingles in members}
    if len(by_role) < 2:
        return []
    kept, dropped = by_role["kept"], by_role["dropped"]
    return [
        {
            "kept_id": kept[0],
            "kept_url": kept[1],
            "dropped_id": dropped[0],
            "dropped_url": dropped[1],
            "jaccard": round(jaccard(kept[2], dropped[2]), 4),
        }
    ]


def connected_components(edges, rounds: int, residual_budget: int, label: str = "CC"):
    """Distinct canonical edges -> ((node, smallest node of its component)) for every node on
    an edge, plus the stats of the rounds. Unrolled: Beam graphs have no loops."""
    stats = []
    for i in range(1, rounds + 1):
        large = (
            edges
            | f"{label} {i} large-star pairs" >> beam.FlatMap(_both_directions)
            | f"{label} {i} large-star group" >> beam.GroupByKey()
            | f"{label} {i} large-star"
            >> beam.ParDo(
                StarStep(large_star_node, large_star_changed, f"round_{i}_large_star_changed")
            ).with_outputs(STATS, main="edges")
        )
        small = (
            large.edges
            | f"{label} {i} large-star distinct" >> beam.Distinct()
            | f"{label} {i} small-star group" >> beam.GroupByKey()
            | f"{label} {i} small-star"
            >> beam.ParDo(
                StarStep(small_star_node, small_star_changed, f"round_{i}_small_star_changed")
            ).with_outputs(STATS, main="edges")
        )
        edges = small.edges | f"{label} {i} small-star distinct" >> beam.Distinct()
        stats += [large[STATS], small[STATS]]

    states = (
        edges
        | f"{label} finish pairs" >> beam.FlatMap(_both_directions)
        | f"{label} finish group" >> beam.GroupByKey()
        | f"{label} node state" >> beam.ParDo(NodeState()).with_outputs(RESIDUAL, main="parents")
    )
    residual = states[RESIDUAL] | f"{label} residual distinct" >> beam.Distinct()
    size = residual | f"{label} residual size" >> beam.combiners.Count.Globally()
    roots = (
        edges.pipeline
        | f"{label} residual trigger" >> beam.Create([None])
        | f"{label} residual union-find"
        >> beam.ParDo(
            ResolveResidual(residual_budget, rounds),
            beam.pvalue.AsSingleton(size),
            beam.pvalue.AsIter(residual),
        ).with_outputs(STATS, main="roots")
    )
    stats.append(roots[STATS])
    labels = (
        (
            states.parents
            | f"{label} by parent" >> beam.MapTuple(lambda node, parent: (parent, ("child", node))),
            roots.roots
            | f"{label} roots" >> beam.MapTuple(lambda node, root: (node, ("root", root))),
        )
        | f"{label} flatten labels" >> beam.Flatten()
        | f"{label} group labels" >> beam.GroupByKey()
        | f"{label} relabel" >> beam.ParDo(Relabel())
    )
    return labels, stats


def minhash_dedup(docs, settings: MinHashSettings):
    """MinHash near-duplicate removal: (docs, [stats], dropped, audit pairs)."""
    params = settings.params
    keys = (
        docs
        | "MinHash batch"
        >> beam.BatchElements(min_batch_size=1, max_batch_size=settings.batch_size)
        | "MinHash band keys" >> beam.ParDo(BandKeys(params)).with_outputs(STATS, main="keys")
    )
    edges = (
        keys.keys
        | "MinHash buckets" >> beam.GroupByKey()
        | "MinHash bucket stars" >> beam.ParDo(BucketStars()).with_outputs(STATS, main="edges")
    )
    stats = [keys[STATS], edges[STATS]]
    distinct = edges.edges | "MinHash distinct edges" >> beam.Distinct()
    labels, cc_stats = connected_components(
        distinct, settings.rounds, settings.residual_budget, "MinHash CC"
    )
    stats += cc_stats
    drops = labels | "MinHash drops" >> beam.Filter(lambda pair: pair[0] != pair[1])

    joined = (
        (
            docs | "MinHash key docs" >> beam.Map(lambda doc: (doc.id, ("doc", doc))),
            drops | "MinHash key labels" >> beam.MapTuple(lambda node, lab: (node, ("label", lab))),
        )
        | "MinHash flatten join" >> beam.Flatten()
        | "MinHash join" >> beam.GroupByKey()
        | "MinHash apply" >> beam.ParDo(ApplyLabels()).with_outputs(STATS, DROPPED, main="kept")
    )
    sizes = (
        drops
        | "MinHash cluster members" >> beam.MapTuple(lambda node, lab: (lab, 1))
        | "MinHash cluster sizes" >> beam.CombinePerKey(sum)
        | "MinHash cluster histogram" >> beam.ParDo(ClusterSizes()).with_outputs(STATS)
    )
    stats += [joined[STATS], sizes[STATS]]

    sample = drops | "MinHash audit sample" >> beam.combiners.Top.Of(
        settings.audit_pairs, key=lambda pair: _rank(pair[0]), reverse=True
    )
    audit = (
        docs
        | "MinHash audit shingles"
        >> beam.ParDo(AuditShingles(params.ngram), beam.pvalue.AsSingleton(sample))
        | "MinHash audit group" >> beam.GroupByKey()
        | "MinHash audit pairs" >> beam.FlatMap(_audit_records)
    )
    return joined.kept, stats, joined[DROPPED], audit
