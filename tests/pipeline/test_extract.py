import pytest

from pipeline.document import Document
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
