"""E-mail and public IP addresses replaced as FineWeb did (stage pii)."""

from __future__ import annotations

from core.document import Document
from filters.base import FIGURES_KEY
from filters.pii import EMAIL_REPLACEMENTS, IP_REPLACEMENTS, PIIReplacement, is_public_ip


def doc(text: str) -> Document:
    return Document(id="20240101000000-00000000000000000000", url="https://x.example/", text=text)


def test_emails_are_replaced_in_turn():
    text = (
        "Write to jane.doe@mail.example.net or to sales+eu@shop-42.co.uk; "
        "the old address j_doe@legacy.example.org still works."
    )
    out, verdict = PIIReplacement().apply(doc(text))
    assert verdict.keep
    assert out.text == (
        f"Write to {EMAIL_REPLACEMENTS[0]} or to {EMAIL_REPLACEMENTS[1]}; "
        f"the old address {EMAIL_REPLACEMENTS[0]} still works."
    )
    assert out.meta[FIGURES_KEY] == {
        "documents_changed": 1,
        "emails_replaced": 3,
        "ips_replaced": 0,
    }


def test_only_public_ip_addresses_are_replaced():
    text = (
        "The server at 8.8.4.4 answered, 192.168.1.20 is the router, 10.0.0.7 the printer, "
        "127.0.0.1 this machine, 172.20.3.4 a container and 93.184.216.34 the web host."
    )
    out, _ = PIIReplacement().apply(doc(text))
    assert out.text == (
        f"The server at {IP_REPLACEMENTS[0]} answered, 192.168.1.20 is the router, 10.0.0.7 the "
        f"printer, 127.0.0.1 this machine, 172.20.3.4 a container and {IP_REPLACEMENTS[1]} the "
        "web host."
    )
    assert out.meta[FIGURES_KEY]["ips_replaced"] == 2


def test_what_counts_as_a_public_address():
    assert is_public_ip("8.8.8.8") and is_public_ip("224.0.0.1")  # multicast counts as public
    assert not is_public_ip("100.64.1.1")  # shared address space
    assert not is_public_ip("192.0.2.1") and not is_public_ip("203.0.113.9")  # documentation
    assert not is_public_ip("08.8.8.8")  # a leading zero is no address
    # Matched without word boundaries, as datatrove does: in "300.1.1.1" the match is
    # "00.1.1.1" (a leading zero: left), in "1.1.1.256" it is "1.1.1.25" (replaced).
    out, _ = PIIReplacement().apply(doc("Version 1.2.3.04 and 300.1.1.1 and 1.1.1.256."))
    assert out.text == f"Version 1.2.3.04 and 300.1.1.1 and {IP_REPLACEMENTS[0]}6."


def test_a_document_without_addresses_is_untouched_and_uncounted():
    original = doc("Nothing to see here: version 2.0, call 555-0100.")
    out, verdict = PIIReplacement().apply(original)
    assert verdict.keep and out is original and FIGURES_KEY not in out.meta


def test_turns_start_afresh_in_every_document():
    stage = PIIReplacement()
    first, _ = stage.apply(doc("a@b.example.com"))
    second, _ = stage.apply(doc("c@d.example.com"))
    assert first.text == second.text == EMAIL_REPLACEMENTS[0]


def test_either_kind_can_be_left_alone():
    text = "mail me@here.example.com from 8.8.8.8"
    assert PIIReplacement(emails=False).apply(doc(text))[0].text == (
        f"mail me@here.example.com from {IP_REPLACEMENTS[0]}"
    )
    assert PIIReplacement(ips=False).apply(doc(text))[0].text == (
        f"mail {EMAIL_REPLACEMENTS[0]} from 8.8.8.8"
    )


def test_emails_are_found_as_the_plain_pattern_scan_finds_them():
    import random

    from filters.pii import _EMAIL, _Turns, replace_emails

    rng = random.Random(7)
    characters = "ab.-@[]1:. _+x"
    for _ in range(5000):
        text = "".join(rng.choice(characters) for _ in range(rng.randint(0, 40)))
        plain = _EMAIL.sub(_Turns(EMAIL_REPLACEMENTS), text)
        assert replace_emails(text, _Turns(EMAIL_REPLACEMENTS)) == plain, text
    # A long run of local-part characters before an "@" that ends no address is left as is.
    blob = "a-" * 200_000 + "@ and b..c@mail.example.com"
    assert PIIReplacement().replace(blob)[0] == "a-" * 200_000 + "@ and b.." + EMAIL_REPLACEMENTS[0]
