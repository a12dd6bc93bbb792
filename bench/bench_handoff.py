"""What handing pages to the extraction processes costs the worker, in CPU per page.

    python bench/bench_handoff.py --input FILE.warc.gz [--pages 2000] [--repeat 3]
        [--extractor resiliparse|trafilatura] [--processes 2]

Reads the file's HTML pages, then runs the extract stage as a run does (`Extraction.submit`
for each page, `flush` at the end, extraction processes started once) and prints the worker's
own CPU per page (user+system of this process, the extraction processes not included), less
the clean-up the worker does on each text anyway (URLs and newlines, timed apart on the same
texts): what remains is the hand-off (sending pages, waiting, receiving texts). resiliparse by
default: it is fast, so the worker is the busy side, as at scale. Medians of `--repeat` passes.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.extract import Extraction, ExtractSettings  # noqa: E402
from pipeline.warc import iter_warc  # noqa: E402


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pages(path: str, limit: int) -> list:
    docs = []
    with open(path, "rb") as handle:
        for outcome in iter_warc(handle, path):
            if outcome.document is not None:
                docs.append(outcome.document)
                if len(docs) == limit:
                    break
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--extractor", default="resiliparse", choices=("resiliparse", "trafilatura")
    )
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    docs = pages(args.input, args.pages)
    stage = Extraction(settings=ExtractSettings(extractor=args.extractor), processes=args.processes)
    stage.setup()
    try:
        passes, texts = [], {}
        for _ in range(args.repeat):
            started, out = cpu(), []
            for doc in docs:
                out.extend(stage.submit(doc))
            out.extend(stage.flush())
            passes.append(cpu() - started)
            texts = {doc.id: doc for doc, _ in out}
        answers = [(doc, texts[doc.id].text) for doc in docs if doc.id in texts]
        cleanup = []
        for _ in range(args.repeat):
            started = cpu()
            for doc, text in answers:
                stage._finish(doc, "ok", text)
            cleanup.append(cpu() - started)
    finally:
        stage.teardown()
    n = len(docs)
    whole, clean = statistics.median(passes), statistics.median(cleanup)
    print(f"{n} pages, {args.extractor}, {args.processes} extraction process(es)")
    print(
        f"worker CPU per page: {whole / n * 1e3:.3f} ms (passes: "
        + ", ".join(f"{p / n * 1e3:.3f}" for p in passes)
        + ")"
    )
    print(f"  clean-up of the texts alone: {clean / n * 1e3:.3f} ms")
    print(f"  hand-off: {(whole - clean) / n * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
