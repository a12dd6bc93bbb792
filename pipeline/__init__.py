"""macrodata: RefinedWeb-style web-data curation on Apache Beam."""

from importlib import metadata

try:
    __version__ = metadata.version("macrodata")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"
