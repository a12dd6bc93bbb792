from dataclasses import dataclass
from typing import ClassVar

from core.document import Document
from filters.base import KEEP, Filter, drop


@dataclass(frozen=True)
class Short(Filter):
    name: ClassVar[str] = "short"

    def score(self, doc):
        if doc.text == "boom":
            raise ValueError("broken document")
        return {"chars": float(len(doc.text))}

    def keep(self, scores):
        return KEEP if scores["chars"] < 5 else drop("too_long")


def test_submit_applies_at_once_and_flush_has_nothing_left():
    stage = Short()
    [(doc, verdict)] = stage.submit(Document(id="a", url="u", text="abc"))
    assert verdict.keep and doc.signals == {"chars": 3.0}
    [(_, verdict)] = stage.submit(Document(id="b", url="u", text="abcdef"))
    assert verdict.reason == "too_long"
    assert stage.flush() == []


def test_submit_returns_the_exception_in_place_of_the_verdict():
    doc = Document(id="a", url="u", text="boom")
    [(same, error)] = Short().submit(doc)
    assert same is doc
    assert isinstance(error, ValueError) and str(error) == "broken document"
