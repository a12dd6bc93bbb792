"""The shape every stage shares: score a document, then keep it or drop it with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.document import Document


@dataclass(frozen=True)
class Verdict:
    """Keep, or drop with a stable snake_case reason (it is a stats key)."""

    keep: bool
    reason: str = ""


KEEP = Verdict(True)
# The reason for a document a stage raised an exception on (it is reported in errors/).
PROCESSING_ERROR = "processing_error"
# doc.meta key: a stage's own figures about this document ({name: number}), e.g. lines it
# removed or strings it replaced. The generic wrapper adds them to stats.json
# dedup.STAGE.name and takes the key off the document before it goes on.
FIGURES_KEY = "stage_figures"


def drop(reason: str) -> Verdict:
    """A drop verdict."""
    return Verdict(False, reason)


class Filter:
    """Base for stages that look at one document at a time.

    Subclasses are frozen dataclasses whose fields are their parameters. Most only implement
    `score` and `keep`; stages that rewrite the document (extraction, language ID, line-wise
    corrections) override `apply`. `setup` loads heavy state once per worker.
    """

    name: ClassVar[str] = ""
    # Names of the float signals this stage records; they become Parquet columns.
    signals: ClassVar[tuple[str, ...]] = ()
    # Every reason `keep` may return, so stats list them even at zero.
    reasons: ClassVar[tuple[str, ...]] = ()
    # A words-per-document histogram of the documents the stage keeps, under this name.
    words_histogram: ClassVar[str] = ""
    # Count the languages of every document the stage finishes, under this phase name.
    language_phase: ClassVar[str] = ""

    def setup(self) -> None:
        """Load models or other per-worker state (called once per worker)."""

    def teardown(self) -> None:
        """Release what `setup` acquired."""

    def score(self, doc: Document) -> dict[str, float]:
        """Measurements of `doc`, named as in `signals`."""
        raise NotImplementedError

    def keep(self, scores: dict[str, float]) -> Verdict:
        """Decide from the scores alone."""
        raise NotImplementedError

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        """Score, record the scores on the document, decide."""
        scores = self.score(doc)
        return doc.with_signals(scores), self.keep(scores)

    def submit(self, doc: Document) -> list[tuple[Document, Verdict | Exception]]:
        """Start on `doc`; return the documents finished so far, in submission order.

        Stages that work on several documents at once (extraction, in child processes)
        override this and `flush`; for the rest a document is finished as soon as it is applied.
        A document the stage fails on comes back with the exception in place of its verdict.
        """
        try:
            return [self.apply(doc)]
        except Exception as error:
            return [(doc, error)]

    def flush(self) -> list[tuple[Document, Verdict | Exception]]:
        """Finish every document still in progress, in submission order."""
        return []
