"""Peak memory and time of a full run on the damaged corpus, 40 MB page and 1 GiB bomb included.

PYTHONPATH=. python bench/hostile.py [WORKDIR]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from tests.hostile import make_corpus


def main() -> None:
    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/macrodata-hostile"
    started = time.monotonic()
    corpus = make_corpus.build(os.path.join(work, "corpus"), huge=True)
    print(f"corpus: {len(corpus.files)} files written in {time.monotonic() - started:.1f}s")
    output = os.path.join(work, "out")
    command = [sys.executable, "-m", "pipeline.cli", "run"]
    for pattern in ("*.warc*", "*.arc*"):
        command += ["--input", os.path.join(corpus.directory, pattern)]
    command += ["--output", output]
    command += ["--languages", "all", "--overwrite"]
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    # ru_maxrss of children: the largest resident set of any one process of the run (KiB).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with open(os.path.join(output, "stats.json")) as handle:
        stats = json.load(handle)
    print(f"run: {elapsed:.1f}s wall, peak RSS of one process {peak:.0f} MiB")
    print(f"records read {stats['read']['records']}, documents out {stats['final']['documents']}")
    print(f"read drops {stats['stages'][0]['dropped']}")
    print(f"limits {stats['limits']}")


if __name__ == "__main__":
    main()
