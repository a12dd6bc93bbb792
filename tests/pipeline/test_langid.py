import pytest

from core.document import Document
from pipeline.langid import LanguageID, bundled_model_path

EN = "The library on the east side of the city has started to lend tools as well as books."
DE = "Die Stadtbibliothek ist ab dem kommenden Monat auch am Sonntag geöffnet und das freut uns."


def test_bundled_model_is_the_lid176_file():
    assert bundled_model_path().endswith("lid.176.ftz")


@pytest.mark.parametrize(
    "text, languages, language, reason",
    [
        (EN, ("en",), "en", ""),
        (DE, ("en",), "de", "language_not_selected"),
        (DE, ("all",), "de", ""),
        (DE, ("de", "fr"), "de", ""),
        ("asdf qwer zxcv 1234 lkjh", ("all",), None, "language_score_too_low"),
    ],
)
def test_language_verdicts(text, languages, language, reason):
    doc, verdict = LanguageID(languages=languages).apply(Document(id="x", url="u", text=text))
    assert verdict.reason == reason
    if language:
        assert doc.language == language and doc.language_score >= 0.65


def test_missing_model_path_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="language model not found"):
        LanguageID(model_path="/nonexistent/lid.176.bin").setup()
