import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.exact_doc import text_key
from dedup.normalize import normalize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, World!", "hello world"),
        ("  many\t\tspaces\n\nand lines  ", "many spaces and lines"),
        ("Ça va très bien, naïve café", "ca va tres bien naive cafe"),
        ("a—b/c «quoted» …end", "a b c quoted end"),
        ("price: $5 + 3% ©2024", "price 5 3 2024"),
        ("ÅNGSTRÖM Straße", "angstrom straße"),
        ("日本語、テキスト。", "日本語 テキスト"),
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_text_key_ignores_what_normalisation_removes():
    assert text_key("Hello,   World!") == text_key("hello world")
    assert text_key("Café au lait") == text_key("cafe AU lait.")
    assert text_key("hello world") != text_key("hello worlds")


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
@settings(max_examples=400, deadline=None)
def test_the_table_lookup_folds_as_str_translate(text):
    import unicodedata

    from dedup.normalize import _TABLE, fold

    assert fold(text) == unicodedata.normalize("NFD", text).lower().translate(_TABLE)


def test_the_table_lookup_falls_back_beyond_the_plane_and_on_lone_surrogates():
    import unicodedata

    from dedup.normalize import _TABLE, fold

    for text in ["Café 😀 “quoted”", "bad \ud800 surrogate É", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢, ÀÉÎ"]:
        assert fold(text) == unicodedata.normalize("NFD", text).lower().translate(_TABLE)
