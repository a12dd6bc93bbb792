"""Word and line splitting shared by the filters, aware of scripts written without spaces."""

from __future__ import annotations

import functools
import re
import sys
from importlib import resources
from typing import NamedTuple

import numpy as np

# Scripts written without spaces between words: each character counts as a word, the usual
# approximation when no segmenter is at hand (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan).
_UNSPACED = (
    "\u0e00-\u0e7f\u0e80-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff"
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_WORDS_WITH_UNSPACED = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")

# Languages whose text is mostly in those scripts; word-length rules do not apply to them.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "wuu", "yue"})


def has_unspaced(text: str) -> bool:
    """Whether `text` holds a character of a script written without spaces."""
    return _UNSPACED_CHAR.search(text) is not None


def split_words(text: str) -> list[str]:
    """Whitespace-separated words; characters of unspaced scripts are words of their own."""
    if not has_unspaced(text):
        return text.split()
    return _WORDS_WITH_UNSPACED.findall(text)


def split_lines(text: str) -> list[str]:
    """Non-empty lines, stripped."""
    return [line for line in (raw.strip() for raw in text.split("\n")) if line]


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def split_paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs (blocks separated by a blank line), stripped."""
    return [p for p in (raw.strip() for raw in _PARAGRAPH_BREAK.split(text)) if p]


class CharacterTables(NamedTuple):
    """Per code point, 1 where the str method is true of that character, else 0."""

    alpha: np.ndarray  # str.isalpha
    upper: np.ndarray  # str.isupper, of letters only
    space: np.ndarray  # str.isspace: where str.split() splits


@functools.cache
def character_tables() -> CharacterTables:
    """The tables, built once per process (~0.5 s): then a whole text is classified in numpy,
    where a loop over its characters, even through str methods mapped in C, costs much more."""
    characters = [chr(code) for code in range(sys.maxunicode + 1)]

    def table(method) -> np.ndarray:
        return np.fromiter(map(method, characters), dtype=np.int32, count=len(characters))

    alpha = table(str.isalpha)
    return CharacterTables(alpha, table(str.isupper) & alpha, table(str.isspace))


def code_points(text: str) -> np.ndarray:
    """The text's characters as code points (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def alphabetic_words(text: str) -> int:
    """How many of `split_words(text)` hold a letter (str.isalpha)."""
    if has_unspaced(text):
        return sum(any(map(str.isalpha, word)) for word in split_words(text))
    tables = character_tables()
    codes = code_points(text)
    # Words are the runs of non-space characters: number them, then count the distinct
    # numbers of the letters (in text order, so equal numbers are neighbours).
    space = tables.space[codes].astype(bool)
    starts = ~space
    starts[1:] &= space[:-1]
    word_of_letters = np.cumsum(starts)[tables.alpha[codes].astype(bool)]
    if not word_of_letters.size:
        return 0
    return 1 + int(np.count_nonzero(word_of_letters[1:] != word_of_letters[:-1]))


# --- English words as FineWeb counted them -------------------------------------------------
# FineWeb's Gopher filters (datatrove 0.10.1) split English with spaCy's rule-based English
# tokenizer (`spacy.blank("en")`, no model). This splitter follows the same procedure, written
# from its published rules: whitespace-separated chunks; from each, leading and trailing
# punctuation peeled off one piece at a time (quotes, brackets, currency, ellipses, a final
# period after a lower-case letter or two capitals, "'s"); the rest kept whole when it is a URL
# or a listed exception (contractions, abbreviations, times, emoticons), else cut at infixes
# (hyphens and slashes between letters, ellipses, "lower.Upper"). bench/parity.py measures how
# often its words differ from spaCy's on the corpus.


def _pieces(listed: str) -> tuple[str, ...]:
    """The space-separated items of a listing."""
    return tuple(listed.split())


_PUNCT_PIECES = _pieces(
    "… …… , : ; ! ? ¿ ؟ ¡ ( ) [ ] { } < > _ # * & 。 ？ ！ ， 、 ； ： ～ · । ، ۔ ؛ ٪"  # noqa: RUF001
)
_QUOTE_CHARS = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"  # noqa: RUF001
_CURRENCY_PIECES = _pieces(
    "US$ C$ A$ $ £ € ¥ ฿ ₽ ﷼ ₴ ₠ ₡ ₢ ₣ ₤ ₥ ₦ ₧ ₨ ₩ ₪ ₫ ₭ ₮ ₯ ₰ ₱ ₲ ₳ ₵ ₶ ₷ ₸ ₹ ₺ ₻ ₼ ₾ ₿"
)
_UNIT_PIECES = _pieces(
    "km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz "
    "m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K %"
)
_HYPHEN_PIECES = ("-", "–", "—", "--", "---", "——", "~")  # noqa: RUF001
# Abbreviations kept with their final period (the English exceptions' list).
_ABBREVIATIONS = _pieces(
    "Adm. Ak. Ala. Apr. Ariz. Ark. Aug. Bros. Calif. Co. Colo. Conn. Corp. D.C. Dec. Del. Dr. "
    "E.G. E.g. Feb. Fla. Ga. Gen. Gov. I.E. I.e. Ia. Id. Ill. Inc. Ind. Jan. Jr. Jul. Jun. Kan. "
    "Kans. Ky. La. Ltd. Mar. Mass. Md. Messrs. Mich. Minn. Miss. Mo. Mont. Mr. Mrs. Ms. Mt. N.C. "
    "N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct. Okla. Ore. Pa. Ph.D. Prof. Rep. Rev. "
    "S.C. Sen. Sep. Sept. St. Tenn. Va. Wash. Wis. a.m. co. e.g. i.e. p.m. v.s. vs. ä. ö. ü."
)
_EMOTICONS = _pieces(
    "(*_*) (-8 (-: (-; (-_-) (._.) (: (; (= (>_<) (^_^) (o: (¬_¬) (ಠ_ಠ) )-: ): -_- -__- 0.0 0.o "
    "0_0 0_o 8) 8-) 8-D 8D :( :(( :((( :() :) :)) :))) :* :-( :-(( :-((( :-) :-)) :-))) :-* :-/ "
    ":-0 :-3 :-> :-D :-O :-P :-X :-] :-o :-p :-x :-| :-} :/ :0 :1 :3 :> :D :O :P :X :] :o :o) "
    ":p :x :| :} :'( :') :'-( :'-) :’( :’) :’-( :’-) ;) ;-) ;-D ;D ;_; <.< </3 <3 <33 <333 =( "
    "=) =/ =3 =D =[ =] =| >.< >.> >:( >:o ><(((*> @_@ O.O O.o O_O O_o V.V V_V XD XDD [-: [: [= "
    "]= ^_^ ^__^ ^___^ o.0 o.O o.o o_0 o_O o_o v.v v_v xD xDD ಠ_ಠ ಠ︵ಠ ¯\\(ツ)/¯"
)
# Other chunks kept whole: dropped letters, a few fixed spellings.
_WHOLE = _pieces(
    "and/or w/o C++ ' '' ’ ’’ 'cause 'cos 'coz 'cuz 'bout 'em 'nuff ’cause ’cos ’coz ’cuz ’bout "
    "’em ’nuff 's 'S ’s ’S ‘s ‘S 'd 'll 're ’d ’ll ’re ma'am ma’am o'clock o’clock ol' ol’ ol "
    "em ll nuff doin goin havin lovin nothin nuthin somethin doin' goin' havin' lovin' nothin' "
    "nuthin' somethin' doin’ goin’ havin’ lovin’ nothin’ nuthin’ somethin’"
)
# Words a clitic is split from: n't (and n't've) after these verbs, 've after the modals.
_NEGATABLE = _pieces(
    "ai are ca could dare did does do had has have is may might must need ought sha should was "
    "were wo would"
)
_MODALS = ("could", "might", "must", "should", "would", "not")
_CLITIC_BASES = {
    **dict.fromkeys(("he", "she", "it", "that", "this"), ("d", "dve", "ll", "llve", "s")),
    "i": ("d", "dve", "ll", "llve", "m", "ma", "ve"),
    **dict.fromkeys(
        ("we", "you", "they", "these", "those"), ("d", "dve", "ll", "llve", "re", "ve")
    ),
    **dict.fromkeys(
        ("how", "there", "what", "when", "where", "who", "why"),
        ("d", "dve", "ll", "llve", "re", "s", "ve"),
    ),
}
# Apostrophe-less forms that are words in their own right, not contractions.
_NOT_CONTRACTIONS = frozenset(_pieces("hell ill its shed shell well were whore"))
# A clitic's letters and the words they are: "dve" is "d" then "ve" ('d've).
_CLITIC_SPLIT = {
    clitic: tuple(re.findall("ll|re|ve|[dmas]", clitic))
    for clitic in ("d", "dve", "ll", "llve", "m", "ma", "re", "s", "ve")
}


def _english_exceptions() -> dict[str, tuple[str, ...]]:
    """Whole chunks and the words they split into."""
    table: dict[str, tuple[str, ...]] = {}

    def add(form: str, parts: tuple[str, ...]) -> None:
        for cased, cased_parts in (
            (form, parts),
            (form[:1].upper() + form[1:], (parts[0][:1].upper() + parts[0][1:], *parts[1:])),
        ):
            table.setdefault(cased, cased_parts)

    for apostrophe in ("'", "’"):  # noqa: RUF001
        for verb in _NEGATABLE:
            add(f"{verb}n{apostrophe}t", (verb, f"n{apostrophe}t"))
            add(f"{verb}n{apostrophe}t{apostrophe}ve", (verb, f"n{apostrophe}t", f"{apostrophe}ve"))
        for base, clitics in _CLITIC_BASES.items():
            for clitic in clitics:
                pieces = tuple(apostrophe + p for p in _CLITIC_SPLIT[clitic])
                add(base + "".join(pieces), (base, *pieces))
        for modal in _MODALS:
            add(f"{modal}{apostrophe}ve", (modal, f"{apostrophe}ve"))
        add(f"c{apostrophe}mon", (f"c{apostrophe}m", "on"))
    for verb in _NEGATABLE:
        add(f"{verb}nt", (verb, "nt"))
        add(f"{verb}ntve", (verb, "nt", "ve"))
    for base, clitics in _CLITIC_BASES.items():
        for clitic in clitics:
            if base + clitic not in _NOT_CONTRACTIONS:
                add(base + clitic, (base, *_CLITIC_SPLIT[clitic]))
    for form, parts in (
        ("cannot", ("can", "not")),
        ("gonna", ("gon", "na")),
        ("gotta", ("got", "ta")),
        ("yall", ("y", "all")),
        ("y'all", ("y'", "all")),
    ):
        add(form, parts)
    for hour in range(1, 13):
        for suffix in ("am", "pm", "a.m.", "p.m."):
            table[f"{hour}{suffix}"] = (str(hour), suffix)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        table[letter + "."] = (letter + ".",)
    for word in (*_ABBREVIATIONS, *_EMOTICONS, *_WHOLE):
        table.setdefault(word, (word,))
        table.setdefault(word[:1].upper() + word[1:], (word[:1].upper() + word[1:],))
    for unit in "CFKcfk":
        table[f"°{unit}."] = ("°", unit, ".")
    return table


class _EnglishRules(NamedTuple):
    prefix: re.Pattern
    suffix: re.Pattern
    infix: re.Pattern
    url: re.Pattern
    exceptions: dict[str, tuple[str, ...]]


def _spacy_classes() -> dict[str, str]:
    """Regex classes (contents) of spaCy's letters, lower- and upper-case letters and symbols
    (data/english_characters.txt)."""
    listed = (resources.files("core") / "data" / "english_characters.txt").read_text("utf-8")
    classes: dict[str, list[str]] = {}
    for line in listed.split("\n"):
        if line and not line.startswith("#"):
            name, first, last = line.split()
            ends = re.escape(chr(int(first, 16))), re.escape(chr(int(last, 16)))
            classes.setdefault(name, []).append(ends[0] if first == last else "-".join(ends))
    return {name: "".join(ranges) for name, ranges in classes.items()}


@functools.cache
def _english_rules() -> _EnglishRules:
    spacy_classes = _spacy_classes()
    lower, upper = spacy_classes["lower"], spacy_classes["upper"]
    icons = spacy_classes["icons"]
    letter = f"[{spacy_classes['alpha']}]"
    quotes = re.escape(_QUOTE_CHARS)
    punct = "".join(map(re.escape, "".join(_PUNCT_PIECES)))
    escaped = lambda pieces: [re.escape(p) for p in pieces]  # noqa: E731
    ellipses = [r"\.\.+", "…"]
    common = escaped(_PUNCT_PIECES) + ellipses + escaped(_QUOTE_CHARS) + [f"[{icons}]"]
    prefixes = escaped(["§", "%", "=", "—", "–"]) + [r"\+(?![0-9])"] + common  # noqa: RUF001
    prefixes += escaped(_CURRENCY_PIECES)
    suffixes = common + escaped(["'s", "'S", "’s", "’S", "—", "–"])  # noqa: RUF001
    suffixes += [
        r"(?<=[0-9])\+",
        r"(?<=°[FfCcKk])\.",
        r"(?<=[0-9])(?:" + "|".join(escaped(_CURRENCY_PIECES)) + ")",
        r"(?<=[0-9])(?:" + "|".join(escaped(_UNIT_PIECES)) + ")",
        rf"(?<=[0-9{lower}%²\-+{punct}{quotes}(?:)])\.",
        rf"(?<=[{upper}][{upper}])\.",
    ]
    hyphens = "|".join(escaped(_HYPHEN_PIECES))
    infixes = ellipses + [f"[{icons}]"]
    infixes += [
        r"(?<=[0-9])[+\-*^](?=[0-9-])",
        rf"(?<=[{lower}{quotes}])\.(?=[{upper}{quotes}])",
        rf"(?<={letter}),(?={letter})",
        rf"(?<=[0-9]|{letter})(?:{hyphens})(?={letter})",
        rf"(?<=[0-9]|{letter})[:<>=/](?={letter})",
    ]
    host = "[A-Za-z0-9\u00a1-\uffff]"
    url = (
        r"^(?:[\w+\-.]{2,}://)?(?:\S+(?::\S*)?@)?"
        rf"(?:(?:{host}[A-Za-z0-9\u00a1-\uffff_-]{{0,62}})?{host}\.)+[{lower}]{{2,63}}"
        r"(?::\d{2,5})?(?:[/?#]\S*)?$"
    )
    return _EnglishRules(
        re.compile("|".join(f"^(?:{p})" for p in prefixes)),
        re.compile("|".join(f"(?:{s})$" for s in suffixes)),
        re.compile("|".join(f"(?:{i})" for i in infixes)),
        re.compile(url),
        _english_exceptions(),
    )


# A chunk longer than this is one word: peeling it piece by piece would cost its length squared
# (a run of 100,000 commas), and no prose holds one.
MAX_ENGLISH_CHUNK = 10_000
_SUFFIX_WINDOW = 64


@functools.lru_cache(maxsize=1 << 16)
def _english_chunk(chunk: str) -> tuple[str, ...]:
    """The words of one whitespace-free chunk."""
    special = _english_rules().exceptions
    if chunk in special:
        return special[chunk]
    words = _peel(chunk, special)
    if len(words) > 1:
        words = _rejoin_exceptions(words)
    return tuple(words)


def _peel(chunk: str, special: dict[str, tuple[str, ...]]) -> list[str]:
    """A chunk's pieces: affixes peeled off until what is left is in `special`, then infixes."""
    rules = _english_rules()
    if chunk in special:
        return list(special[chunk])
    if chunk.isalpha() or len(chunk) > MAX_ENGLISH_CHUNK:
        return [chunk]  # no prefix, suffix or infix is made of letters only
    prefixes: list[str] = []
    suffixes: list[str] = []
    rest = chunk
    last = -1
    while rest and len(rest) != last and rest not in special:
        last = len(rest)
        match = rules.prefix.search(rest)
        pre = match.end() if match else 0
        if pre and rest[pre:] in special:
            prefixes.append(rest[:pre])
            rest = rest[pre:]
            break
        tail = rest[pre:]
        # Suffixes are short: the search looks at the tail's end only.
        match = rules.suffix.search(tail, max(0, len(tail) - _SUFFIX_WINDOW))
        suf = len(tail) - match.start() if match else 0
        if suf and rest[:-suf] in special:
            suffixes.append(rest[-suf:])
            rest = rest[:-suf]
            break
        if pre and suf and pre + suf <= len(rest):
            prefixes.append(rest[:pre])
            suffixes.append(rest[-suf:])
            rest = rest[pre:-suf]
        elif pre:
            prefixes.append(rest[:pre])
            rest = rest[pre:]
        elif suf:
            suffixes.append(rest[-suf:])
            rest = rest[:-suf]
    words = prefixes
    if rest in special:
        words.extend(special[rest])
    elif rest and rules.url.match(rest):
        words.append(rest)
    elif rest:
        start = 0
        for match in rules.infix.finditer(rest):
            if match.start() == 0:
                continue
            if match.start() != start:
                words.append(rest[start : match.start()])
            if match.end() != match.start():
                words.append(match.group())
            start = match.end()
        if rest[start:]:
            words.append(rest[start:])
    words.extend(reversed(suffixes))
    return words


@functools.cache
def _exception_patterns() -> dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]:
    """By first piece: the pieces an exception is peeled into when exceptions are not looked
    up (two or more), and the exception's words."""
    special = _english_rules().exceptions
    patterns: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for form, words in special.items():
        pieces = tuple(_peel(form, {}))
        if len(pieces) > 1:
            patterns.setdefault(pieces[0], []).append((pieces, words))
    return {first: tuple(found) for first, found in patterns.items()}


def _rejoin_exceptions(words: list[str]) -> list[str]:
    """Runs of pieces that are exactly how an exception is peeled (without exceptions) become
    that exception's words: a chunk "Rep.)" keeps its abbreviation, "im." is "i" "m.". The
    longest runs win, then the earlier ones; a run sharing its first or last piece with one
    that won, or lost, to a longer run is dropped (spaCy's special-case matcher)."""
    patterns = _exception_patterns()
    found = []  # (length, start, words)
    for start, word in enumerate(words):
        for pieces, replacement in patterns.get(word, ()):
            if tuple(words[start : start + len(pieces)]) == pieces:
                found.append((len(pieces), start, replacement))
    if not found:
        return words
    found.sort(key=lambda run: (-run[0], run[1]))
    seen: set[int] = set()
    chosen: dict[int, tuple[int, tuple[str, ...]]] = {}
    for length, start, replacement in found:
        if start not in seen and start + length - 1 not in seen:
            chosen[start] = (length, replacement)
        seen.update(range(start, start + length))
    out: list[str] = []
    i = 0
    while i < len(words):
        if i in chosen:
            length, replacement = chosen[i]
            out.extend(replacement)
            i += length
        else:
            out.append(words[i])
            i += 1
    return out


# The last text split and its words: the repetition and quality filters split the same text
# one after the other (one slot, replaced whole, so threads only ever miss).
_last_english: tuple[str, tuple[str, ...]] = ("", ())


def split_english_words(text: str) -> list[str]:
    """English words and punctuation marks as FineWeb's Gopher filters split them."""
    global _last_english
    last_text, last_words = _last_english
    if last_text is text:
        return list(last_words)
    words = [word for chunk in text.split() for word in _english_chunk(chunk)]
    _last_english = (text, tuple(words))
    return words


_WHITESPACE_RUNS = re.compile(r"(\s+)")  # \s is str.isspace, where str.split splits


def split_english_tokens(text: str) -> list[str]:
    """spaCy's tokens of English text: the words of `split_english_words` and the whitespace
    the tokenizer keeps as tokens of their own.

    A single space after a word belongs to that word; any other run of whitespace between
    words is one token, less its first character when that is a space ("\\n", the second of
    two spaces). Whitespace opening the text is one token whole. What counts as a sentence
    depends on these (a sentencizer starts a sentence at them).
    """
    pieces = _WHITESPACE_RUNS.split(text)  # words' chunk, whitespace, chunk, ... (may be "")
    tokens: list[str] = []
    for i, piece in enumerate(pieces):
        if not i % 2:
            if piece:
                tokens.extend(_english_chunk(piece))
        elif piece[0] != " " or (i == 1 and not pieces[0]):
            tokens.append(piece)  # whitespace opening the text is kept whole
        elif len(piece) > 1:
            tokens.append(piece[1:])
    return tokens
