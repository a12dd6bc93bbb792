"""Tokens per CPU-second of each tokenizer backend, on extracted text.

    python bench/bench_tokenizers.py RUN_OUTPUT_DIR [--repeat 3] [--hf PATH/tokenizer.json]

Without --hf, a 50k byte-level BPE (the GPT-2 recipe) is trained on the texts themselves and
saved to a temporary tokenizer.json, so the Hugging Face backend is measured offline too.

RUN_OUTPUT_DIR is any macrodata run (its Parquet `text` column is the input). Prints the median
of --repeat runs, one core, batch encoding as the tokenize stage does it.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import time

import pyarrow.parquet as pq

from core.tokenizer import load_tokenizer


def texts_of(output: str) -> list[str]:
    """Every document text of a run."""
    files = sorted(glob.glob(os.path.join(output, "data", "*.parquet")))
    return [t for f in files for t in pq.read_table(f, columns=["text"]).column(0).to_pylist()]


def measure(spec: str, texts: list[str], repeat: int, batch: int = 256) -> tuple[float, int]:
    """(median tokens per CPU-second, tokens) for one tokenizer spec."""
    tokenizer = load_tokenizer(spec)
    rates, tokens = [], 0
    for _ in range(repeat):
        started = time.process_time()
        tokens = 0
        for i in range(0, len(texts), batch):
            tokens += sum(map(len, tokenizer.encode_batch(texts[i : i + batch])))
        rates.append(tokens / (time.process_time() - started))
    return statistics.median(rates), tokens


def train_byte_level_bpe(texts: list[str], path: str, vocab_size: int = 50_000) -> str:
    """A GPT-2-style tokenizer.json trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hf", help="a tokenizer.json to include")
    args = parser.parse_args()
    texts = texts_of(args.output)
    specs = ["tiktoken:cl100k_base", "tiktoken:o200k_base"]
    if not args.hf:
        import tempfile

        args.hf = train_byte_level_bpe(texts, os.path.join(tempfile.mkdtemp(), "tokenizer.json"))
    specs.append(f"hf:{args.hf}")
    print(f"{len(texts)} documents, {sum(map(len, texts)):,} characters")
    for spec in specs:
        rate, tokens = measure(spec, texts, args.repeat)
        print(f"{spec:40s} {tokens:>10,} tokens  {rate / 1e6:6.2f} M tokens per CPU-second")


if __name__ == "__main__":
    main()
