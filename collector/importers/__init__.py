"""Importers: local files become the same ``Document`` items a spider yields.

``read_paths`` walks files and folders (recursively) and yields, for each input, either an
item or a ``Problem`` (the file, record or line, and the reason), so one bad input is
reported and skipped while everything else is imported.
"""

from .files import Problem, discover, read_file, read_paths

__all__ = ["Problem", "discover", "read_file", "read_paths"]
