import pytest

from filters.url import URLFilter, host_suffixes, load_blocklist


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://news.example.org/harbour", ""),
        ("https://www.pornhub.com/view", "blocklisted_domain"),
        ("https://fr.pornhub.com/view", "blocklisted_domain"),  # subdomains of a listed domain
        ("https://foo-xvid.eos-bar.example.com/", "strict_word"),  # separators ignored
        ("https://example.com/free-porn-today", "strict_word"),
        ("https://example.com/porn/page", "hard_word"),
        ("https://example.com/sex/education", ""),  # one soft word is not enough
        ("https://example.com/sexy-webcam-models", "soft_words"),
        ("https://www.massachusetts.gov/assessments", ""),  # no substring false positive
        ("https://en.wikipedia.org/wiki/Harbour", "high_quality_source"),
        ("https://stackoverflow.com/questions/1", "high_quality_source"),
        ("not a url", "invalid_url"),
        ("", "invalid_url"),
    ],
)
def test_url_verdicts(url, reason):
    assert URLFilter().verdict(url).reason == reason


def test_high_quality_exclusion_is_optional():
    f = URLFilter(exclude_high_quality_domains=False)
    assert f.verdict("https://en.wikipedia.org/wiki/Harbour").keep


def test_ut1_directory_layout(tmp_path):
    for category, domains, urls in [
        ("adult", "bad.example\n", "evil.example/path\n"),
        ("gambling", "bet.example\n", ""),
        ("shopping", "shop.example\n", ""),  # not a RefinedWeb category
    ]:
        (tmp_path / category).mkdir()
        (tmp_path / category / "domains").write_text(domains)
        (tmp_path / category / "urls").write_text(urls)
    f = URLFilter(blocklists=(str(tmp_path),))
    assert f.verdict("http://www.bad.example/x").reason == "blocklisted_domain"
    assert f.verdict("http://bet.example/").reason == "blocklisted_domain"
    assert f.verdict("http://shop.example/").keep
    assert f.verdict("https://evil.example/path").reason == "blocklisted_url"
    assert f.verdict("https://evil.example/other").keep
    domains, urls = load_blocklist([str(tmp_path)], ("adult",))
    assert domains == {"bad.example"} and urls == {"evil.example/path"}


def test_missing_blocklist_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="blocklist not found"):
        URLFilter(blocklists=("/nonexistent/list",)).verdict("http://a.example/")


def test_host_suffixes():
    assert host_suffixes("a.b.example.com") == ["a.b.example.com", "b.example.com", "example.com"]
