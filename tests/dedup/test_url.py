import pytest

from dedup.url import canonical_url


@pytest.mark.parametrize(
    "url, expected",
    [
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_medium=y", "https://example.com/a"),
        ("https://example.com/a?b=2&fbclid=abc&a=1&gclid=z", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?id=7&UTM_Campaign=q", "https://example.com/a?id=7"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com./a", "https://example.com/a"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("http://example.com:99999/x", "http://example.com:99999/x"),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_different_pages_stay_different():
    assert canonical_url("https://example.com/a?id=1") != canonical_url(
        "https://example.com/a?id=2"
    )
    assert canonical_url("http://example.com/a") != canonical_url("https://example.com/a")
    assert canonical_url("https://example.com/A") != canonical_url("https://example.com/a")
