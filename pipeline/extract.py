"""HTML -> main text (trafilatura, or resiliparse), with RefinedWeb's clean-up and hard limits."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import select
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from typing import ClassVar

from core.document import LIMITS_KEY, Document
from filters.base import KEEP, Filter, Verdict, drop

EXTRACTORS = ("trafilatura", "resiliparse")

# RefinedWeb §3.1 removes URLs after extraction; the regex is not published (spec §1.3). Ours:
# scheme URLs, `www.` hosts, and bare host names with a path, each with the spaces before it.
_TLDS = "com|org|net|edu|gov|io|de|fr|uk|es|it|nl|ru|cn|jp|info|biz"
_URL = re.compile(
    r"[ \t]{0,10}(?:"
    r"(?:https?|ftp)://[^\s<>\"']+"
    r"|www\.[^\s<>\"']+"
    rf"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:{_TLDS})"
    r"/[^\s<>\"']*"
    r")",
    re.IGNORECASE,
)
# What each of the three kinds of URL must hold, looked for in a line before the pattern
# (which costs about 50 µs on a paragraph): "://", "www." (any case), or ".TLD/".
_TLD_PATH = re.compile(rf"\.(?:{_TLDS})/", re.IGNORECASE)


def _may_hold_www(text: str) -> bool:
    """Whether `text` holds "www." in any case (the pattern's IGNORECASE folds nothing else
    to "w"); lower() of the whole text only when a "w." is there."""
    return ("w." in text or "W." in text) and "www." in text.lower()


def clean_text(text: str, max_newlines: int = 2, remove_urls: bool = True) -> str:
    """RefinedWeb's post-processing: URLs removed, at most `max_newlines` newlines in a row."""
    lines = text.split("\n")
    # Each URL the pattern matches stays within a line and holds "/" or "www.", and "://",
    # "www." or ".TLD/": the pattern runs only on the lines that hold what it needs (a few
    # percent of them), and on none when the whole text holds none of it.
    if remove_urls:
        www = _may_hold_www(text)
        if www or "://" in text or _TLD_PATH.search(text):
            lines = [
                _URL.sub("", line)
                if (www and _may_hold_www(line))
                or ("/" in line and ("://" in line or _TLD_PATH.search(line)))
                else line
                for line in lines
            ]
    text = "\n".join(line.rstrip() for line in lines)
    if "\n" * (max_newlines + 1) in text:
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
    """Child process loop: receive HTML (UTF-8), send back ("ok", text) or ("error", message)."""
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
            html = connection.recv_bytes().decode("utf-8", "surrogatepass")
        except EOFError:  # the parent closed its end (or exited)
            return
        try:
            connection.send(("ok", extract_main_text(html, settings)))
        except MemoryError:
            connection.send(("error", "memory limit exceeded"))
        except Exception as error:
            connection.send(("error", f"{type(error).__name__}: {error}"[:500]))


def _sandbox_entry() -> None:
    """Entry of the extraction process: argv = socket fd, settings JSON, memory bytes, sys.path."""
    descriptor, settings, memory_bytes = sys.argv[1:4]
    connection = Connection(int(descriptor))
    _sandbox_main(connection, ExtractSettings(**json.loads(settings)), int(memory_bytes))


# The child imports only this module: multiprocessing's spawn would re-run the parent's
# __main__ module first (the CLI or Beam's worker main), which costs seconds per process.
_CHILD_COMMAND = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[4]); "
    "from pipeline.extract import _sandbox_entry; _sandbox_entry()"
)

# Generous: a loaded machine can take a while to start Python and import the extractor.
STARTUP_TIMEOUT_SECONDS = 300
# Socket buffer asked for (the kernel may grant less): pages queued behind a busy process wait
# there, and the parent only queues what fits, so it never blocks while a page is running.
SOCKET_BUFFER_BYTES = 4 * 1024**2


class _Sandbox:
    """One extraction child process, so a page that hangs the parser can be cut off."""

    def __init__(self, settings: ExtractSettings, memory_bytes: int):
        self.settings = settings
        self.memory_bytes = memory_bytes
        self.process = None
        self.connection = None
        self.capacity = 0  # bytes of pages the socket holds without blocking the sender

    def start(self) -> None:
        parent, child = socket.socketpair()
        with child:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _CHILD_COMMAND,
                    str(child.fileno()),
                    json.dumps(asdict(self.settings)),
                    str(self.memory_bytes),
                    json.dumps([p for p in sys.path if p]),
                ],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        with contextlib.suppress(OSError):
            parent.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER_BYTES)
        # Half of what Linux reports is room for payload; the rest is its bookkeeping.
        self.capacity = parent.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) // 2
        self.connection = Connection(parent.detach())
        try:
            if self.connection.poll(STARTUP_TIMEOUT_SECONDS):
                status, why = self.connection.recv()
            else:
                status, why = "failed", f"no answer within {STARTUP_TIMEOUT_SECONDS}s"
        except (EOFError, OSError):
            status, why = "failed", f"it exited (code {self.process.poll()})"
        if status != "ready":
            self.stop()
            raise RuntimeError(f"the extraction process could not start: {why}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        if self.connection is not None:
            self.connection.close()
        self.process = self.connection = None


class _Pool:
    """Extraction processes kept busy: pages go out as they come, answers come back in order.

    Each process holds up to `depth` pages, so it starts the next page while the caller is
    busy with the last answer. A page's time limit runs from when its process starts on it.
    A process cut off or dead fails the page it was working on; its other pages go to a new one.
    """

    def __init__(self, sandboxes: list[_Sandbox], timeout: float, depth: int = 2):
        self.sandboxes = sandboxes
        self.timeout = timeout
        self.depth = depth
        # Per process: (key, UTF-8 page) of the pages it holds, oldest (the one it works on)
        # first; the first `sent` of them have been written to it, the rest wait for room.
        self.queues: list[deque] = [deque() for _ in sandboxes]
        self.sent = [0] * len(sandboxes)
        self.started = [0.0] * len(sandboxes)  # when each process started on its oldest page
        self.results: dict[int, tuple[str, str]] = {}
        self.next_key = 0  # key of the next page submitted
        self.next_out = 0  # key of the next answer to hand back

    def submit(self, html: bytes) -> int:
        """Queue one page (UTF-8); its key (answers come back in key order)."""
        while True:
            slot = min(range(len(self.queues)), key=lambda i: len(self.queues[i]))
            if len(self.queues[slot]) < self.depth:
                break
            self._collect(block=True)
        key, self.next_key = self.next_key, self.next_key + 1
        self.queues[slot].append((key, html))
        self._feed(slot)
        return key

    def finished(self) -> list[tuple[int, tuple[str, str]]]:
        """Answers ready now, in key order, without waiting."""
        self._collect(block=False)
        return self._in_order()

    def drain(self) -> list[tuple[int, tuple[str, str]]]:
        """Every outstanding answer, in key order."""
        while any(self.queues):
            self._collect(block=True)
        return self._in_order()

    def stop(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.stop()

    def _in_order(self) -> list[tuple[int, tuple[str, str]]]:
        out = []
        while self.next_out in self.results:
            out.append((self.next_out, self.results.pop(self.next_out)))
            self.next_out += 1
        return out

    def _feed(self, slot: int) -> None:
        """Send the process the pages it can take without blocking us (starting it if needed)."""
        queue, sandbox = self.queues[slot], self.sandboxes[slot]
        while self.sent[slot] < len(queue):
            key, page = queue[self.sent[slot]]
            if not self.sent[slot]:  # idle: it reads the page at once
                if not sandbox.alive():
                    sandbox.stop()
                    try:
                        sandbox.start()
                    except RuntimeError as error:
                        queue.popleft()
                        self.results[key] = "error", str(error)
                        continue
            elif not sandbox.alive():  # died on the page it was working on
                self._fail(slot, "error", "extractor process died")
                return
            elif sum(len(p) for _, p in list(queue)[: self.sent[slot] + 1]) > sandbox.capacity:
                return  # it would fill the socket: sent when the process is free
            try:
                sandbox.connection.send_bytes(page)
            except OSError as error:
                self._fail(slot, "error", f"extractor process died: {error}")
                return
            if not self.sent[slot]:
                self.started[slot] = time.monotonic()
            self.sent[slot] += 1

    def _fail(self, slot: int, status: str, why: str) -> None:
        """Stop the process; its oldest page gets (status, why), the rest go to a new process."""
        self.sandboxes[slot].stop()
        key, _ = self.queues[slot].popleft()
        self.results[key] = status, why
        self.sent[slot] = 0
        self._feed(slot)

    def _collect(self, block: bool) -> None:
        busy = [slot for slot, queue in enumerate(self.queues) if queue]
        if not busy:
            return
        wait_for = 0.0
        if block:
            first_deadline = min(self.started[slot] + self.timeout for slot in busy)
            wait_for = max(first_deadline - time.monotonic(), 0.0)
        # select.poll, not multiprocessing's wait(): that builds a selector and its keys on
        # every call, twice a page. Any event (an answer, or the process gone) is read below.
        poller = select.poll()
        for slot in busy:
            poller.register(self.sandboxes[slot].connection.fileno(), select.POLLIN)
        ready = {fd for fd, _ in poller.poll(math.ceil(wait_for * 1000))}
        now = time.monotonic()
        for slot in busy:
            sandbox = self.sandboxes[slot]
            if sandbox.connection.fileno() in ready:
                try:
                    answer = sandbox.connection.recv()
                except (EOFError, OSError) as error:
                    self._fail(slot, "error", f"extractor process died: {error or 'it exited'}")
                    continue
                key, _ = self.queues[slot].popleft()
                self.results[key] = answer
                self.sent[slot] -= 1
                self.started[slot] = now
                self._feed(slot)
            elif now >= self.started[slot] + self.timeout:
                self._fail(slot, "timeout", f"no result within {self.timeout:g}s")


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
    words_histogram: ClassVar[str] = "words_extracted"

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
    # Extraction processes per stage instance, fed continuously (`submit`). 0 or 1: one.
    processes: int = 1
    _workers: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_workers"] = {}
        return state

    def setup(self) -> None:
        if self.timeout_seconds <= 0 or "pool" in self._workers:
            return
        sandboxes = [
            _Sandbox(self.settings, self.memory_limit_bytes) for _ in range(max(self.processes, 1))
        ]
        try:
            for sandbox in sandboxes:
                sandbox.start()
        except RuntimeError:
            for sandbox in sandboxes:
                sandbox.stop()
            raise
        self._workers["pool"] = _Pool(sandboxes, self.timeout_seconds)
        self._workers["waiting"] = {}  # pool key -> the document whose page it is

    def teardown(self) -> None:
        pool = self._workers.pop("pool", None)
        if pool is not None:
            pool.stop()
        self._workers.clear()

    def extract(self, html: str) -> tuple[str, str]:
        """("ok", text) or (failure kind, why) for one page, waiting for it."""
        html = html[: self.max_html_chars]
        if self.timeout_seconds <= 0:
            try:
                return "ok", extract_main_text(html, self.settings)
            except Exception as error:
                return "error", f"{type(error).__name__}: {error}"[:500]
        self.setup()
        if self._workers["waiting"]:
            raise RuntimeError("extract() called with submitted pages outstanding; flush first")
        pool = self._workers["pool"]
        pool.submit(html.encode("utf-8", "surrogatepass"))
        [(_, result)] = pool.drain()
        return result

    def _page(self, doc: Document) -> bytes:
        """The page as its process receives it: UTF-8, cut at max_html_chars characters."""
        html = doc.html or ""
        if doc.html_utf8 is not None and len(html) <= self.max_html_chars:
            return doc.html_utf8  # the reader's bytes: no second encoding of the page
        return html[: self.max_html_chars].encode("utf-8", "surrogatepass")

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        return self._finish(doc, *self.extract(doc.html or ""))

    def submit(self, doc: Document) -> list[tuple[Document, Verdict | Exception]]:
        if self.timeout_seconds <= 0:
            return super().submit(doc)
        self.setup()
        key = self._workers["pool"].submit(self._page(doc))
        self._workers["waiting"][key] = doc
        return self._finished(self._workers["pool"].finished())

    def flush(self) -> list[tuple[Document, Verdict | Exception]]:
        if "pool" not in self._workers:
            return []
        return self._finished(self._workers["pool"].drain())

    def _finished(self, answers) -> list[tuple[Document, Verdict | Exception]]:
        waiting = self._workers["waiting"]
        finished = []
        for key, (status, result) in answers:
            doc = waiting.pop(key)
            try:
                finished.append(self._finish(doc, status, result))
            except Exception as error:  # reported for this document, not the one submitted
                finished.append((doc, error))
        return finished

    def _finish(self, doc: Document, status: str, result: str) -> tuple[Document, Verdict]:
        """The document with its cleaned text (or the failure), and the verdict."""
        limits = ["html_chars"] if len(doc.html or "") > self.max_html_chars else []
        if status != "ok":
            reason = "extraction_timeout" if status == "timeout" else "extraction_error"
            failed = doc.replace(html=None, html_utf8=None, meta={**doc.meta, "error": result})
            return failed, drop(reason)
        text = result[: self.max_text_chars]
        if len(result) > self.max_text_chars:
            limits.append("text_chars")
            if "\n" in text:
                text = text[: text.rindex("\n")]
        text = clean_text(text, self.max_consecutive_newlines, self.remove_urls)
        meta = {**doc.meta, LIMITS_KEY: tuple(limits)} if limits else doc.meta
        doc = doc.replace(html=None, html_utf8=None, text=text, meta=meta)
        return doc, (KEEP if text else drop("empty_extraction"))
