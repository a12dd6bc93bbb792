"""datatrove 0.10.1's filters on given texts, one verdict per filter and per rule, for parity.py.

    PEER_PYTHON bench/peer_parity.py SPEC_JSON TEXTS_JSONL OUT_JSONL

Runs under the peer's own Python environment (never the project's). SPEC_JSON names, for each
filter, datatrove's class and constructor arguments (FineWeb's settings, from datatrove's
examples/fineweb.py) and, per rule, the arguments that leave only that rule on, so a rule's
verdict is the real filter's. TEXTS_JSONL holds {"id", "text"} lines; OUT_JSONL gets, per text,
{"id", "words": the English word tokenizer's words, "filters": {name: {"keep", "reason",
"text_sha1": of the text the filter hands on, "rules": {rule: kept}}}}.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings


def build(class_name: str, arguments: dict):
    """A datatrove filter from its class name and JSON arguments (lists become tuples)."""
    import datatrove.pipeline.filters as filters

    def tuples(value):
        return tuple(map(tuples, value)) if isinstance(value, list) else value

    return getattr(filters, class_name)(**{k: tuples(v) for k, v in arguments.items()})


def verdict(step, record: dict) -> tuple[bool, str, str]:
    """(kept, reason, sha1 of the text handed on) of one filter on one text; an exception is
    a drop named after it. Each call gets its own Document: C4's filter edits the text."""
    from datatrove.data import Document

    doc = Document(text=record["text"], id=record["id"])
    try:
        result = step.filter(doc)
    except Exception as error:  # a rule left alone can divide by zero words
        return False, f"error:{type(error).__name__}", ""
    digest = hashlib.sha1(doc.text.encode("utf-8", "surrogatepass")).hexdigest()
    if isinstance(result, tuple):
        return bool(result[0]), result[1] or "", digest
    return bool(result), "", digest


def main() -> None:
    spec_path, texts_path, out_path = sys.argv[1:4]
    from datatrove.utils.text import split_into_words

    warnings.filterwarnings("ignore")  # numpy's mean of no words, in single-rule filters
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    steps = {
        name: (
            build(entry["class"], entry["arguments"]),
            {
                rule: build(entry["class"], {**entry["arguments"], **only})
                for rule, only in entry["rules"].items()
            },
        )
        for name, entry in spec.items()
    }
    with open(texts_path, encoding="utf-8") as texts, open(out_path, "w") as out:
        for line in texts:
            record = json.loads(line)
            filters = {}
            for name, (whole, rules) in steps.items():
                keep, reason, digest = verdict(whole, record)
                filters[name] = {
                    "keep": keep,
                    "reason": reason,
                    "text_sha1": digest,
                    "rules": {rule: verdict(step, record)[0] for rule, step in rules.items()},
                }
            words = split_into_words(record["text"])
            out.write(json.dumps({"id": record["id"], "words": words, "filters": filters}) + "\n")


if __name__ == "__main__":
    main()
