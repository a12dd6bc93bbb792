"""Dedup as Beam shuffles: exact-document, MinHash (LSH + connected components) and URL.

Every stage keeps the smallest document id of a duplicate group; ids sort earliest crawl
first (core.document.document_id), so the earliest capture survives. Nothing here holds
a group, a bucket or the graph in one list: group iterables are streamed (twice where a
minimum is needed first; Beam's GroupByKey iterables are re-iterable).
"""

from __future__ import annotations

import hashlib
import logging

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from core.document import Document, handle_id, id_handle
from dedup.bloom import key_hashes
from dedup.components import (
    UnionFind,
    canonical,
    large_star_changed,
    large_star_node,
    node_state,
    small_star_changed,
    small_star_node,
)
from dedup.lsh import EARLIER_HANDLE, band_chunks, band_entries, band_mix, bucket_stars
from dedup.minhash import (
    NEAR_DUPLICATE,
    NEAR_DUPLICATE_KEPT_BY_EARLIER_RUN,
    MinHasher,
    MinHashParams,
    MinHashSettings,
)
from dedup.shingles import jaccard, shingle_hashes
from pipeline.beam.index import EarlierBandChunks, EarlierKeys, EarlierMatches
from pipeline.beam.stage import (
    DOCUMENTS,
    DROPPED,
    STATS,
    CountingDoFn,
    StageResult,
    dropped_sample,
    packed,
    unpacked,
)
from pipeline.index import INDEX_KEYS

log = logging.getLogger("macrodata")
MINHASH = MinHashSettings.name
RESIDUAL = "residual"
AUDIT = "audit"
EDGES = "edges"
ROOTS = "roots"
OWN_BANDS = "own_bands"
# The label of components that hold a document of an earlier run (dedup.lsh.EARLIER_HANDLE).
EARLIER_ID = handle_id(EARLIER_HANDLE)


class ConvergenceError(RuntimeError):
    """Connected components did not settle within the rounds and the residual budget."""


def _rank(doc_id: str) -> str:
    """A deterministic pseudo-random order for sampling."""
    return hashlib.blake2b(doc_id.encode(), digest_size=8).hexdigest()


# --- exact-document and URL dedup: key, group, keep the smallest id -----------------------


class KeepSmallest(CountingDoFn):
    """(key, members) -> the smallest-id document kept, the others dropped as duplicates.

    Members are (id, packed document) of this run and, with earlier runs, (earlier id, None)
    for each earlier run that kept the key: then every document of this run is dropped under
    the earlier reason (earlier runs always win). The kept document records its key, so the
    run index holds the key this stage compared (pipeline/index.py).
    """

    progress_what = "documents grouped by key"

    def __init__(self, stage):
        self.stage_name = stage.name
        self.reason = stage.duplicate_reason
        self.earlier_reason = stage.earlier_reason
        self.column = stage.index_column

    def process(self, item):
        key, members = item
        self.progress(len(members))
        own = [doc_id for doc_id, data in members if data is not None]
        if not own:  # only earlier runs hold the key (or it passed their filter by chance)
            return
        earlier = min((doc_id for doc_id, data in members if data is None), default=None)
        smallest = min(own)
        kept = False
        funnel = self.funnel
        for _, data in members:
            if data is None:
                continue
            doc = unpacked(data)
            funnel.entered()
            if earlier is not None:
                funnel.dropped(self.earlier_reason)
                detail = f"an earlier run kept {earlier}"
                sample = dropped_sample(doc, self.stage_name, self.earlier_reason, detail)
                yield TaggedOutput(DROPPED, sample)
                continue
            if doc.id == smallest and not kept:
                kept = True
                funnel.kept(doc)
                keys = {**doc.meta.get(INDEX_KEYS, {}), self.column: key}
                yield doc.replace(meta={**doc.meta, INDEX_KEYS: keys})
                continue
            funnel.dropped(self.reason)
            detail = f"kept {smallest}"
            yield TaggedOutput(DROPPED, dropped_sample(doc, self.stage_name, self.reason, detail))


class KeepEarliest(beam.PTransform):
    """Documents grouped by the stage's key; the smallest id (the earliest capture) is kept.

    The stage object has `name`, `key(doc)` (16 bytes), its reasons and, with --dedup-against,
    earlier runs' index files: their keys that pass a filter of this run's keys join the same
    GroupByKey (pipeline/beam/index.py), so the earlier index is streamed, never grouped.
    Exact-document and URL dedup.
    """

    def __init__(self, stage):
        super().__init__()
        self.stage = stage

    def expand(self, docs):
        stage = self.stage
        keyed = docs | "Key" >> beam.Map(lambda doc: (stage.key(doc), (doc.id, packed(doc))))
        stats, errors = [], []
        if stage.earlier_files:
            own = (
                keyed
                | "Own keys" >> beam.Map(lambda pair: pair[0])
                | "Batch own keys" >> beam.BatchElements(min_batch_size=256, max_batch_size=65536)
                | "Own key hashes" >> beam.Map(key_hashes)
            )
            earlier = own | "Earlier" >> EarlierMatches(
                stage.earlier_files,
                stage.earlier_documents,
                EarlierKeys(stage.name, stage.index_column),
            )
            keyed = (keyed, earlier.documents) | "With earlier" >> beam.Flatten()
            stats.append(earlier.stats)
            errors.append(earlier.errors)
        result = (
            keyed
            | "Group" >> beam.GroupByKey()
            | "Keep smallest"
            >> beam.ParDo(KeepSmallest(stage)).with_outputs(STATS, DROPPED, main=DOCUMENTS)
        )
        if not stats:
            return StageResult(result[DOCUMENTS], result[STATS], result[DROPPED])
        return StageResult(
            result[DOCUMENTS],
            (result[STATS], *stats) | "Stats" >> beam.Flatten(),
            result[DROPPED],
            tuple(errors) | "Errors" >> beam.Flatten(),
        )


# --- MinHash ------------------------------------------------------------------------------


class MinHashDoFn(CountingDoFn):
    """A DoFn of the minhash stage (its figures go to stats.json dedup.minhash)."""

    stage_name = MINHASH


class BandEntries(MinHashDoFn):
    """A batch of documents -> (bucket, packed BandChunk): 12 bytes a document and band, and
    the id handles of the documents a chunk names (never a record per band key, nor the
    signature).

    With `summarise`, also each batch's band entries as 64-bit values (OWN_BANDS), for the
    filter earlier runs' band keys pass through.
    """

    progress_what = "documents hashed"

    def __init__(self, params: MinHashParams, buckets: int, summarise: bool = False):
        self.params = params
        self.buckets = buckets
        self.summarise = summarise

    def setup(self):
        self.hasher = MinHasher(self.params)

    def process(self, batch: list[Document]):
        self.progress(len(batch))
        hashes, has_shingles = self.hasher.text_band_hashes([doc.text for doc in batch])
        if not has_shingles.all():
            self.funnel.figure("documents_without_shingles", int((~has_shingles).sum()))
        docs = [doc for doc, has in zip(batch, has_shingles, strict=True) if has]
        if not docs:
            return
        handles = b"".join(id_handle(doc.id) for doc in docs)
        for bucket, chunk in band_chunks(handles, hashes[has_shingles], self.buckets):
            yield bucket, packed(chunk)
        if self.summarise:
            yield TaggedOutput(OWN_BANDS, band_mix(band_entries(hashes[has_shingles])))


class BucketStars(MinHashDoFn):
    """(bucket, packed chunks) -> edges from each member of a band key to its smallest."""

    progress_what = "band buckets sorted"

    def process(self, item):
        _, chunks = item
        self.progress()
        edges = 0
        for edge in bucket_stars([unpacked(chunk) for chunk in chunks]):
            edges += 1
            yield edge
        if edges:
            self.funnel.figure("bucket_edges", edges)


class StarStep(MinHashDoFn):
    """One large-star or small-star step at one node; counts the edges it rewires."""

    def __init__(self, step, changed, counter: str):
        self.step = step
        self.changed = changed
        self.counter = counter
        # "round_2_small_star_changed" -> "components round 2 small-star, nodes"
        step_name = counter.removesuffix("_changed").replace("_star", "-star").replace("_", " ")
        self.progress_what = f"components {step_name}, nodes"

    def process(self, item):
        node, neighbours = item
        self.progress()
        changed = 0
        for edge in self.step(node, neighbours):
            changed += self.changed(node, edge)
            yield canonical(*edge)
        self.funnel.figure(self.counter, changed)


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


class ResolveResidual(MinHashDoFn):
    """Union-find over the residual edges in one worker, if they fit the budget."""

    def __init__(self, budget: int, rounds: int):
        self.budget = budget
        self.rounds = rounds

    def process(self, _, size, residual):
        log.info("minhash: %s edges unsettled after %d star rounds", f"{size:,}", self.rounds)
        self.funnel.figure("residual_edges", size)
        self.funnel.figure("rounds", self.rounds)
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


class ApplyLabels(MinHashDoFn):
    """(id, documents and labels) -> kept documents; non-minimum members dropped.

    The documents named in the sampled pairs also go out with their shingles, for the audit:
    here, where the documents are anyway, so none is held back for a later pass.
    """

    progress_what = "documents joined with their components"

    def __init__(self, ngram: int):
        self.ngram = ngram

    def process(self, item, pairs):
        _, values = item
        self.progress()
        docs, label = [], None
        for tag, value in values:
            if tag == "doc":
                docs.append(unpacked(value))
            else:
                label = value
        funnel = self.funnel
        for doc in docs:
            for index, (dropped, kept) in enumerate(pairs):
                for role, wanted in (("dropped", dropped), ("kept", kept)):
                    if doc.id == wanted:
                        shingles = shingle_hashes(doc.text, self.ngram)
                        yield TaggedOutput(AUDIT, (index, (role, doc.id, doc.url, shingles)))
            funnel.entered()
            if label is None:
                funnel.kept(doc)
                yield doc
                continue
            if label == EARLIER_ID:
                reason, detail = NEAR_DUPLICATE_KEPT_BY_EARLIER_RUN, "an earlier run kept one"
            else:
                reason, detail = NEAR_DUPLICATE, f"kept {label}"
            funnel.dropped(reason)
            yield TaggedOutput(DROPPED, dropped_sample(doc, MINHASH, reason, detail))


class ClusterSizes(MinHashDoFn):
    """(cluster minimum, dropped members) -> the cluster-size histogram."""

    progress_what = "near-duplicate clusters counted"

    def process(self, item):
        _, dropped = item
        self.progress()
        self.funnel.histogram("minhash_cluster_size", dropped + 1)
        self.funnel.figure("clusters")


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


class ConnectedComponents(beam.PTransform):
    """Distinct canonical edges -> (labels, stats): (node, smallest node of its component) for
    every node on an edge. Unrolled rounds, since Beam graphs have no loops."""

    def __init__(self, rounds: int, residual_budget: int):
        super().__init__()
        self.rounds = rounds
        self.residual_budget = residual_budget

    def expand(self, edges):
        stats = []
        for i in range(1, self.rounds + 1):
            large = (
                edges
                | f"{i} large-star pairs" >> beam.FlatMap(_both_directions)
                | f"{i} large-star group" >> beam.GroupByKey()
                | f"{i} large-star"
                >> beam.ParDo(
                    StarStep(large_star_node, large_star_changed, f"round_{i}_large_star_changed")
                ).with_outputs(STATS, main=EDGES)
            )
            small = (
                large[EDGES]
                | f"{i} large-star distinct" >> beam.Distinct()
                | f"{i} small-star group" >> beam.GroupByKey()
                | f"{i} small-star"
                >> beam.ParDo(
                    StarStep(small_star_node, small_star_changed, f"round_{i}_small_star_changed")
                ).with_outputs(STATS, main=EDGES)
            )
            edges = small[EDGES] | f"{i} small-star distinct" >> beam.Distinct()
            stats += [large[STATS], small[STATS]]

        states = (
            edges
            | "Finish pairs" >> beam.FlatMap(_both_directions)
            | "Finish group" >> beam.GroupByKey()
            | "Node state" >> beam.ParDo(NodeState()).with_outputs(RESIDUAL, main="parents")
        )
        residual = states[RESIDUAL] | "Residual distinct" >> beam.Distinct()
        size = residual | "Residual size" >> beam.combiners.Count.Globally()
        roots = (
            edges.pipeline
            | "Residual trigger" >> beam.Create([None])
            | "Residual union-find"
            >> beam.ParDo(
                ResolveResidual(self.residual_budget, self.rounds),
                beam.pvalue.AsSingleton(size),
                beam.pvalue.AsIter(residual),
            ).with_outputs(STATS, main=ROOTS)
        )
        stats.append(roots[STATS])
        labels = (
            (
                states.parents
                | "By parent" >> beam.MapTuple(lambda node, parent: (parent, ("child", node))),
                roots[ROOTS] | "Roots" >> beam.MapTuple(lambda node, root: (node, ("root", root))),
            )
            | "Flatten labels" >> beam.Flatten()
            | "Group labels" >> beam.GroupByKey()
            | "Relabel" >> beam.ParDo(Relabel())
        )
        return labels, tuple(stats) | "Stats" >> beam.Flatten()


class MinHashStage(beam.PTransform):
    """MinHash near-duplicate removal: band keys, LSH buckets, connected components, and the
    documents of each component but its smallest id dropped; the audit samples merged pairs."""

    def __init__(self, settings: MinHashSettings):
        super().__init__()
        self.settings = settings

    def expand(self, docs):
        settings, params = self.settings, self.settings.params
        earlier = bool(settings.earlier_files)
        keys = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=settings.batch_size)
            | "Band entries"
            >> beam.ParDo(BandEntries(params, settings.buckets, summarise=earlier)).with_outputs(
                STATS, OWN_BANDS, main="keys"
            )
        )
        buckets, stats, errors = keys.keys, [], []
        if earlier:
            # Earlier runs' band entries that may share a band with this run's enter the same
            # buckets as rows of EARLIER_HANDLE, the smallest node: a component holding one is
            # labelled with it, and all of this run's members are dropped.
            matches = keys[OWN_BANDS] | "Earlier" >> EarlierMatches(
                settings.earlier_files,
                settings.earlier_documents * params.bands,
                EarlierBandChunks(MINHASH, params.bands, settings.buckets),
            )
            buckets = (buckets, matches.documents) | "With earlier" >> beam.Flatten()
            stats.append(matches.stats)
            errors.append(matches.errors)
        edges = (
            buckets
            | "Buckets" >> beam.GroupByKey()
            | "Bucket stars" >> beam.ParDo(BucketStars()).with_outputs(STATS, main=EDGES)
        )
        distinct = edges[EDGES] | "Distinct edges" >> beam.Distinct()
        labels, component_stats = distinct | "Components" >> ConnectedComponents(
            settings.rounds, settings.residual_budget
        )
        # Components work on 16-byte id handles; what follows on the documents' ids.
        drops = (
            labels
            | "Drops" >> beam.Filter(lambda pair: pair[0] != pair[1])
            | "Drop ids" >> beam.MapTuple(lambda node, label: (handle_id(node), handle_id(label)))
        )
        # Pairs within this run: the audit and the cluster sizes are about them.
        within = drops | "Within run" >> beam.Filter(lambda pair: pair[1] != EARLIER_ID)

        sample = within | "Audit sample" >> beam.combiners.Top.Of(
            settings.audit_pairs, key=lambda pair: _rank(pair[0]), reverse=True
        )
        joined = (
            (
                docs | "Key docs" >> beam.Map(lambda doc: (doc.id, ("doc", packed(doc)))),
                drops | "Key labels" >> beam.MapTuple(lambda node, lab: (node, ("label", lab))),
            )
            | "Flatten join" >> beam.Flatten()
            | "Join" >> beam.GroupByKey()
            | "Apply"
            >> beam.ParDo(ApplyLabels(params.ngram), beam.pvalue.AsSingleton(sample)).with_outputs(
                STATS, DROPPED, AUDIT, main=DOCUMENTS
            )
        )
        sizes = (
            within
            | "Cluster members" >> beam.MapTuple(lambda node, lab: (lab, 1))
            | "Cluster sizes" >> beam.CombinePerKey(sum)
            | "Cluster histogram" >> beam.ParDo(ClusterSizes()).with_outputs(STATS)
        )
        stats = (
            keys[STATS],
            edges[STATS],
            component_stats,
            joined[STATS],
            sizes[STATS],
            *stats,
        ) | "Stats" >> beam.Flatten()
        audit = (
            joined[AUDIT]
            | "Audit group" >> beam.GroupByKey()
            | "Audit pairs" >> beam.FlatMap(_audit_records)
            | "Audit list" >> beam.combiners.ToList()
            | "Audit section"
            >> beam.Map(lambda pairs: {"pairs": sorted(pairs, key=lambda p: p["dropped_id"])})
        )
        errors = tuple(errors) | "Errors" >> beam.Flatten() if errors else None
        return StageResult(joined[DOCUMENTS], stats, joined[DROPPED], errors, audit)
