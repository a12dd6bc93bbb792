"""The closest peer's filtering pipeline (datatrove 0.10.1) on WARC files, for bench_pipeline.py.

    PEER_PYTHON bench/peer_datatrove.py --lid-model lid.176.ftz --logging-dir DIR FILE...

Runs under the peer's own Python environment (never the project's): datatrove's WarcReader ->
Trafilatura (its defaults) -> LanguageFilter (every language, its default 0.65 threshold) ->
GopherRepetitionFilter -> GopherQualityFilter (defaults), executed by LocalPipelineExecutor with
1 task and 1 worker, logging into DIR. Writes DIR/funnel.json: the documents each step received
and kept, its drop reasons and seconds, from datatrove's own stats.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # datatrove lives only in the peer's environment
    from datatrove.pipeline.filters import LanguageFilter


def language_filter(model_path: str) -> LanguageFilter:
    """datatrove's LanguageFilter for every language, its fastText model read from `model_path`."""
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.utils.lid import FT176LID

    class LocalFT176(FT176LID):
        """FT176LID that loads a local file instead of fetching lid.176.bin (no downloads)."""

        @property
        def model(self):
            if self._model is None:
                import fasttext

                self._model = fasttext.load_model(model_path)
            return self._model

    step = LanguageFilter(languages=None)  # None: every language, best score above threshold
    step.model = LocalFT176(step.languages)
    return step


def funnel(stats_path: str) -> list[dict]:
    """datatrove's stats.json as steps: name, in, out, drop reasons, seconds."""
    with open(stats_path, encoding="utf-8") as handle:
        blocks = json.load(handle)
    steps = []
    for block in blocks:
        counts = {key: _total(value) for key, value in block["stats"].items()}
        if "documents" in counts:  # the reader: documents it yielded (records are not counted)
            received = kept = counts["documents"]
        else:
            received, kept = counts.get("total", 0), counts.get("forwarded", 0)
        dropped = {
            key.removeprefix("dropped_"): value
            for key, value in counts.items()
            if key.startswith("dropped_") or key in ("timeout", "clean_error", "broken_process")
        }
        if received > kept + sum(dropped.values()):
            # Extractors count empty text, the language filter every drop, under no reason.
            dropped["unspecified"] = received - kept - sum(dropped.values())
        steps.append(
            {
                # "🔻 - FILTER: 🥇 Gopher Quality" -> "Gopher Quality"
                "name": block["name"].split(":")[-1].encode("ascii", "ignore").decode().strip(),
                "in": received,
                "out": kept,
                "dropped": dropped,
                "seconds": _total(block.get("time_stats", {})),
            }
        )
    return steps


def _total(value: dict | float) -> float:
    """A datatrove metric's total (metrics are {"total": ..., ...} or plain numbers)."""
    return value.get("total", 0) if isinstance(value, dict) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lid-model", required=True, help="fastText language-ID model file")
    parser.add_argument("--logging-dir", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.readers import WarcReader

    files = [os.path.abspath(f) for f in args.files]
    folder = os.path.commonpath([os.path.dirname(f) for f in files])
    paths_file = os.path.join(args.logging_dir, "input-paths.txt")
    os.makedirs(args.logging_dir, exist_ok=True)
    with open(paths_file, "w", encoding="utf-8") as handle:
        handle.writelines(os.path.relpath(f, folder) + "\n" for f in files)
    executor = LocalPipelineExecutor(
        pipeline=[
            WarcReader(folder, paths_file=paths_file),
            Trafilatura(),
            language_filter(args.lid_model),
            GopherRepetitionFilter(),
            GopherQualityFilter(),
        ],
        tasks=1,
        workers=1,
        logging_dir=os.path.join(args.logging_dir, "datatrove"),
    )
    executor.run()
    steps = funnel(os.path.join(args.logging_dir, "datatrove", "stats.json"))
    with open(os.path.join(args.logging_dir, "funnel.json"), "w", encoding="utf-8") as handle:
        json.dump(steps, handle, indent=1)
    if not steps:
        sys.exit("the peer wrote no stats")


if __name__ == "__main__":
    main()
