import re

import pytest

from core.document import Document
from pipeline.extract import Extraction, ExtractSettings, clean_text

ARTICLE = "<html><body><nav>Home | About</nav><article><h1>Title</h1>{}</article></body></html>"
PARAGRAPHS = "".join(
    f"<p>This is paragraph number {i} of a long article about harbours and boats, written so "
    f"that the extractor recognises it as the main content of the page.</p>"
    for i in range(8)
)


def test_clean_text_removes_urls_and_caps_newlines():
    text = "See https://example.com/a?b=1 or www.example.org now.\n\n\n\nNext example.com/path end"
    assert clean_text(text) == "See or now.\n\nNext end"


def test_clean_text_matches_the_pattern_over_the_whole_text():
    # clean_text runs the URL pattern only on lines that may hold a URL; the result must be
    # what the pattern gives over the whole text.
    from pipeline.extract import _URL

    text = (
        "plain line\nend with spaces \t\nWWW.Example.COM and more\n"
        "\tftp://host/file.txt\nshop.example.de/cart?id=1 ok\nno url here, 1/2 of it\n"
        "HTTPS://A.B/c\n\n\n\nwww.\nfoo.com without a path\n   https://x.org   \nlast"
    )

    def whole(text):
        reference = "\n".join(line.rstrip() for line in _URL.sub("", text).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", reference).strip()

    reference = whole(text)
    assert clean_text(text) == reference
    assert "Example" not in reference and "shop" not in reference and "foo.com" in reference
    # Texts with no "www." anywhere, and with no "/" either, take shorter paths.
    no_www = text.replace("WWW.", "W.").replace("www.", "w.")
    assert "www." not in no_www.lower() and clean_text(no_www) == whole(no_www) != no_www
    assert "shop" not in clean_text(no_www)
    no_slash = text.replace("/", " ")
    assert clean_text(no_slash) == whole(no_slash) and "Example" not in clean_text(no_slash)
    plain = no_www.replace("/", " ")
    assert clean_text(plain) == whole(plain) and "foo.com" in clean_text(plain)


@pytest.mark.parametrize("timeout", [0, 5])
def test_trafilatura_extracts_main_text(timeout):
    stage = Extraction(timeout_seconds=timeout)
    try:
        stage.setup()
        doc, verdict = stage.apply(Document(id="x", url="u", html=ARTICLE.format(PARAGRAPHS)))
    finally:
        stage.teardown()
    assert verdict.keep
    assert "paragraph number 7" in doc.text and "Home | About" not in doc.text
    assert doc.html is None


def test_resiliparse_extractor():
    pytest.importorskip("resiliparse")
    stage = Extraction(settings=ExtractSettings(extractor="resiliparse"), timeout_seconds=0)
    doc, verdict = stage.apply(Document(id="x", url="u", html=ARTICLE.format(PARAGRAPHS)))
    assert verdict.keep and "paragraph number 7" in doc.text


def test_empty_page_is_dropped():
    _, verdict = Extraction(timeout_seconds=0).apply(
        Document(id="x", url="u", html="<html></html>")
    )
    assert verdict.reason == "empty_extraction"


def test_a_page_that_takes_too_long_is_cut_off():
    stage = Extraction(timeout_seconds=0.001)
    try:
        _, verdict = stage.apply(Document(id="x", url="u", html=ARTICLE.format(PARAGRAPHS * 50)))
    finally:
        stage.teardown()
    assert verdict.reason == "extraction_timeout"


def test_start_up_is_not_charged_to_the_first_page():
    # The extraction process starts, imports and warms up in setup(), before any page's clock.
    stage = Extraction(timeout_seconds=2)
    try:
        stage.setup()
        assert all(sandbox.alive() for sandbox in stage._workers["pool"].sandboxes)
        _, verdict = stage.apply(Document(id="x", url="u", html=ARTICLE.format(PARAGRAPHS)))
    finally:
        stage.teardown()
    assert verdict.keep


def test_an_extraction_process_that_cannot_start_says_why():
    stage = Extraction(settings=ExtractSettings(extractor="nope"))
    with pytest.raises(RuntimeError, match="could not start: ValueError: unknown extractor"):
        stage.setup()


# ---- the extraction processes, fed continuously (submit / flush) ----

# ~6 s of trafilatura work: far past the limits below, so it stands in for a hanging parse.
SLOW_PAGE = "<html><body>" + "<div>a</div>" * 50_000 + "</body></html>"
# Larger than a default socket buffer (~200 KB): it must not block the parent while queued.
BIG_PAGE = ARTICLE.format(
    "".join(
        f"<p>Line {i} of a long article about boats in the old harbour.</p>" for i in range(5000)
    )
)


def pages(n: int) -> list[Document]:
    """Small articles of varying length, one without any text."""
    docs = []
    for i in range(n):
        body = "".join(
            f"<p>Page {i}, paragraph {j}: the harbour master counts the boats that come in "
            f"with the evening tide, one by one.</p>"
            for j in range(1 + 3 * (i % 4))
        )
        docs.append(Document(id=f"{i:03d}", url=f"http://a.org/{i}", html=ARTICLE.format(body)))
    docs.append(Document(id="empty", url="http://a.org/empty", html="<html></html>"))
    return docs


def in_process(docs: list[Document]) -> list[tuple[str, str, str]]:
    reference = Extraction(timeout_seconds=0)
    return [(d.id, d.text, v.reason) for d, v in map(reference.apply, docs)]


def streamed(stage: Extraction, docs: list[Document]) -> list[tuple[Document, object]]:
    finished = []
    for doc in docs:
        finished += stage.submit(doc)
    return finished + stage.flush()


def summary(finished) -> list[tuple[str, str, str]]:
    return [(d.id, d.text, v.reason) for d, v in finished]


@pytest.mark.parametrize("socket_room", [None, 0])
def test_pages_come_back_once_each_in_submission_order(socket_room):
    docs = pages(10)
    stage = Extraction(timeout_seconds=30, processes=2)
    try:
        stage.setup()
        if socket_room is not None:  # as with a small socket buffer: pages wait for a free process
            for sandbox in stage._workers["pool"].sandboxes:
                sandbox.capacity = socket_room
        finished = streamed(stage, docs)
        assert stage.flush() == []
    finally:
        stage.teardown()
    assert summary(finished) == in_process(docs)
    assert summary(finished)[-1][2] == "empty_extraction"


def test_a_page_past_its_limit_is_cut_off_and_the_pages_queued_behind_it_are_extracted():
    docs = [Document(id="slow", url="u", html=SLOW_PAGE)]
    docs += [Document(id="big", url="u", html=BIG_PAGE), *pages(3)]
    stage = Extraction(timeout_seconds=1.0, processes=1)
    try:
        finished = streamed(stage, docs)
    finally:
        stage.teardown()
    (slow, verdict), rest = finished[0], finished[1:]
    assert verdict.reason == "extraction_timeout"
    assert "no result within 1s" in slow.meta["error"]
    assert summary(rest) == in_process(docs[1:])


def test_a_process_that_dies_costs_only_the_page_it_was_working_on():
    docs = [Document(id="slow", url="u", html=SLOW_PAGE), *pages(4)]
    stage = Extraction(timeout_seconds=60, processes=1)
    try:
        stage.setup()
        finished = stage.submit(docs[0])
        process = stage._workers["pool"].sandboxes[0].process
        process.kill()
        process.wait()  # dead before the next page is handed over
        finished += streamed(stage, docs[1:])
    finally:
        stage.teardown()
    assert len(finished) == len(docs)
    (slow, verdict), rest = finished[0], finished[1:]
    assert verdict.reason == "extraction_error"
    assert "died" in slow.meta["error"]
    assert summary(rest) == in_process(docs[1:])


def test_a_process_that_dies_with_pages_queued_hands_them_to_a_new_one():
    docs = [Document(id="slow", url="u", html=SLOW_PAGE), *pages(4)]
    stage = Extraction(timeout_seconds=60, processes=1)
    try:
        stage.setup()
        finished = stage.submit(docs[0]) + stage.submit(docs[1])  # both with the one process
        process = stage._workers["pool"].sandboxes[0].process
        process.kill()
        process.wait()
        finished += streamed(stage, docs[2:])
    finally:
        stage.teardown()
    assert [verdict.reason for _, verdict in finished[:1]] == ["extraction_error"]
    assert summary(finished[1:]) == in_process(docs[1:])


def test_a_process_that_cannot_restart_fails_its_pages_not_the_stage():
    docs = pages(3)
    stage = Extraction(timeout_seconds=30, processes=1)
    try:
        stage.setup()
        sandbox = stage._workers["pool"].sandboxes[0]
        sandbox.settings = ExtractSettings(extractor="nope")  # the next start fails
        sandbox.process.kill()
        sandbox.process.wait()
        finished = streamed(stage, docs)
    finally:
        stage.teardown()
    assert [d.id for d, _ in finished] == [d.id for d in docs]
    assert {v.reason for _, v in finished} == {"extraction_error"}
    assert all("could not start" in d.meta["error"] for d, _ in finished)
