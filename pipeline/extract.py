"""HTML -> main text (trafilatura, or resiliparse), with RefinedWeb's clean-up and hard limits."""

from __future__ import annotations

import logging
import multiprocessing
import re
from dataclasses import dataclass, field
from typing import ClassVar

from filters.base import KEEP, Filter, Verdict, drop
from pipeline.document import LIMITS_KEY, Document

EXTRACTORS = ("trafilatura", "resiliparse")

# RefinedWeb §3.1 removes URLs after extraction; the regex is not published (spec §1.3). Ours:
# scheme URLs, `www.` hosts, and bare host names with a path, each with the spaces before it.
_URL = re.compile(
    r"[ \t]{0,10}(?:"
    r"(?:https?|ftp)://[^\s<>\"']+"
    r"|www\.[^\s<>\"']+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|de|fr|uk|es|it|nl|ru|cn|jp|info|biz)"
    r"/[^\s<>\"']*"
    r")",
    re.IGNORECASE,
)


def clean_text(text: str, max_newlines: int = 2, remove_urls: bool = True) -> str:
    """RefinedWeb's post-processing: URLs removed, at most `max_newlines` newlines in a row."""
    if remove_urls:
        text = _URL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(rf"\n{{{max_newlines + 1},}}", "\n" * max_newlines, text)
    return text.strip()


@dataclass(frozen=True)
class ExtractSettings:
    """The extractor and its options (recorded in the manifest with the rest of the config)."""

    extractor: str = "trafilatura"
    # Measured on the corpus gold snippets (bench/gold.py): precision mode lowers boilerplate
    # leak 0.094 -> 0.072 but costs recall 0.939 -> 0.928, and with `fast` recall drops to 0.897.
    favor_precision: bool = False
    include_comments: bool = False
    include_tables: bool = True
    # trafilatura's `deduplicate` keeps a process-wide cache, so output would depend on the
    # order documents reach a worker; off, for deterministic runs.
    deduplicate: bool = False
    # Skip trafilatura's fallback extractors: ~1.4x faster, recall 0.950 -> 0.939 (corpus gold).
    fast: bool = True


def extract_main_text(html: str, settings: ExtractSettings) -> str:
    """The page's main content as plain text ('' when nothing is found)."""
    if settings.extractor == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        return extract_plain_text(html, main_content=True, alt_texts=False, links=False) or ""
    if settings.extractor != "trafilatura":
        raise ValueError(f"unknown extractor {settings.extractor!r} (choose from {EXTRACTORS})")
    import trafilatura

    text = trafilatura.extract(
        html,
        favor_precision=settings.favor_precision,
        include_comments=settings.include_comments,
        include_tables=settings.include_tables,
        include_images=False,
        include_links=False,
        deduplicate=settings.deduplicate,
        fast=settings.fast,
        output_format="txt",
        with_metadata=False,
    )
    return text or ""


def _sandbox_main(connection, settings: ExtractSettings, memory_bytes: int) -> None:
    """Child process loop: receive HTML, send back ("ok", text) or ("error", message)."""
    if memory_bytes > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # The child has no logging set up: keep the extractor's per-page chatter out of the console.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    # Import and warm up the extractor before saying ready, so start-up time is never charged
    # to the first page's time limit.
    try:
        extract_main_text("<html><body><p>ready</p></body></html>", settings)
    except Exception as error:  # e.g. a missing dependency: tell the parent why
        connection.send(("failed", f"{type(error).__name__}: {error}"))
        return
    connection.send(("ready", ""))
    while True:
        try:
            html = connection.recv()
        except EOFError:
            return
        try:
            connection.send(("ok", extract_main_text(html, settings)))
        except MemoryError:
            connection.send(("error", "memory limit exceeded"))
        except Exception as error:
            connection.send(("error", f"{type(error).__name__}: {error}"[:500]))


# Generous: a loaded machine can take a while to start Python and import the extractor.
STARTUP_TIMEOUT_SECONDS = 300


class _Sandbox:
    """Runs extraction in a child process so a page that hangs the parser can be cut off."""

    def __init__(self, settings: ExtractSettings, memory_bytes: int):
        self.settings = settings
        self.memory_bytes = memory_bytes
        self.process = None
        self.connection = None

    def start(self) -> None:
        # spawn, not fork: the parent runs gRPC threads on Beam workers.
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process = context.Process(
            target=_sandbox_main, args=(child, self.settings, self.memory_bytes), daemon=True
        )
        self.process.start()
        child.close()
        self.connection = parent
        try:
            if parent.poll(STARTUP_TIMEOUT_SECONDS):
                status, why = parent.recv()
            else:
                status, why = "failed", f"no answer within {STARTUP_TIMEOUT_SECONDS}s"
        except (EOFError, OSError):
            status, why = "failed", f"it exited (code {self.process.exitcode})"
        if status != "ready":
            self.stop()
            raise RuntimeError(f"the extraction process could not start: {why}")

    def extract(self, html: str, timeout: float) -> tuple[str, str]:
        """("ok", text) | ("error", why) | ("timeout", why)."""
        if self.process is None or not self.process.is_alive():
            self.start()
        try:
            self.connection.send(html)
            if self.connection.poll(timeout):
                return self.connection.recv()
        except (EOFError, OSError) as error:
            self.stop()
            return "error", f"extractor process died: {error}"
        self.stop()
        return "timeout", f"no result within {timeout:g}s"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
        if self.connection is not None:
            self.connection.close()
        self.process = self.connection = None


@dataclass(frozen=True)
class Extraction(Filter):
    """HTML -> cleaned main text; drops pages with no text, or that break the limits."""

    name: ClassVar[str] = "extract"
    signals: ClassVar[tuple[str, ...]] = ()
    reasons: ClassVar[tuple[str, ...]] = (
        "empty_extraction",
        "extraction_timeout",
        "extraction_error",
    )

    settings: ExtractSettings = ExtractSettings()
    # Per-document wall-clock limit; 0 extracts in-process with no limit.
    timeout_seconds: float = 5.0
    # Address-space cap of the extraction process (bytes), so a decompression bomb or a
    # pathological DOM fails one page rather than the worker.
    memory_limit_bytes: int = 1024**3
    # Pages longer than this (characters of HTML) are cut before parsing.
    max_html_chars: int = 2_000_000
    # Extracted texts longer than this are cut (at a line break when there is one).
    max_text_chars: int = 500_000
    max_consecutive_newlines: int = 2
    remove_urls: bool = True
    _sandbox: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_sandbox"] = {}
        return state

    def setup(self) -> None:
        if self.timeout_seconds > 0 and "process" not in self._sandbox:
            sandbox = _Sandbox(self.settings, self.memory_limit_bytes)
            sandbox.start()
            self._sandbox["process"] = sandbox

    def teardown(self) -> None:
        sandbox = self._sandbox.pop("process", None)
        if sandbox is not None:
            sandbox.stop()

    def extract(self, html: str) -> tuple[str, str]:
        """("ok", text) or (failure kind, why) for one page."""
        html = html[: self.max_html_chars]
        sandbox = self._sandbox.get("process")
        if sandbox is None and self.timeout_seconds > 0:
            self.setup()
            sandbox = self._sandbox["process"]
        if sandbox is not None:
            return sandbox.extract(html, self.timeout_seconds)
        try:
            return "ok", extract_main_text(html, self.settings)
        except Exception as error:
            return "error", f"{type(error).__name__}: {error}"[:500]

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        html = doc.html or ""
        limits = ["html_chars"] if len(html) > self.max_html_chars else []
        status, result = self.extract(html)
        if status != "ok":
            reason = "extraction_timeout" if status == "timeout" else "extraction_error"
            return doc.replace(html=None, meta={**doc.meta, "error": result}), drop(reason)
        text = result[: self.max_text_chars]
        if len(result) > self.max_text_chars:
            limits.append("text_chars")
            if "\n" in text:
                text = text[: text.rindex("\n")]
        text = clean_text(text, self.max_consecutive_newlines, self.remove_urls)
        meta = {**doc.meta, LIMITS_KEY: tuple(limits)} if limits else doc.meta
        doc = doc.replace(html=None, text=text, meta=meta)
        return doc, (KEEP if text else drop("empty_extraction"))
