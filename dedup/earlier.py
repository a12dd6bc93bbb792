"""What a dedup stage knows of earlier runs (`--dedup-against`): their index files to join."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EarlierRuns:
    """The earlier runs' index files a dedup stage joins against (none: within the run only).

    Earlier runs always win: what one of them kept is dropped here under the stage's reason
    naming "earlier" (pipeline/beam/index.py streams the files; pipeline/index.py their format).
    """

    earlier_files: tuple[str, ...] = ()
    earlier_documents: int = 0  # documents those files hold (sizes the join's filter)
