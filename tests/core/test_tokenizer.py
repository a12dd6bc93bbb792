import json

import pytest

from core.tokenizer import TokenizerError, load_tokenizer

TEXTS = ["Hello world", "Grüße aus Köln 🌍 中文", "<|endoftext|> is plain text here", ""]


@pytest.mark.parametrize(
    "spec, eos", [("tiktoken:cl100k_base", 100257), ("tiktoken:o200k_base", 199999)]
)
def test_offline_tiktoken_round_trip(spec, eos):
    tokenizer = load_tokenizer(spec)
    assert tokenizer.eos_id == eos
    for text, ids in zip(TEXTS, tokenizer.encode_batch(TEXTS), strict=True):
        assert ids[-1] == eos
        assert tokenizer.decode(ids) == text + "<|endoftext|>"
        # Special-token text inside a document is encoded as ordinary text.
        assert eos not in ids[:-1]


def test_cl100k_is_the_published_encoding():
    # Token ids of "Hello world" under the published cl100k_base.
    assert load_tokenizer("tiktoken:cl100k_base").encode_batch(["Hello world"], False) == [
        [9906, 1917]
    ]


def test_hf_tokenizer_json(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<unk>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(TEXTS * 10, trainer)
    from tokenizers import decoders

    tokenizer.decoder = decoders.ByteLevel()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    loaded = load_tokenizer(f"hf:{path}")
    assert loaded.eos_id == tokenizer.token_to_id("</s>")
    ids = loaded.encode_batch(["Grüße aus Köln"])[0]
    assert loaded.decode(ids) == "Grüße aus Köln</s>"
    assert load_tokenizer({"spec": f"hf:{path}"}).vocab_size == loaded.vocab_size
    json.loads(path.read_text())  # the file a user would point at


@pytest.mark.parametrize("spec", ["tiktoken:gpt9", "nope:x", "hf:/nonexistent/tokenizer.json"])
def test_bad_specs_are_clear_errors(spec):
    with pytest.raises(TokenizerError):
        load_tokenizer(spec)


def test_default_tokenizer_needs_no_network_and_no_cache(tmp_path, monkeypatch):
    import socket

    import core.tokenizer as module

    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    tokenizer = module.load_tokenizer(module.DEFAULT_TOKENIZER)
    assert tokenizer.decode(tokenizer.encode_batch(["offline"])[0]) == "offline<|endoftext|>"
    assert not (tmp_path / "empty-cache").exists()
