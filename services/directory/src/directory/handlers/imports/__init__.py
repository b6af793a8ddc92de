"""File imports into the directory (structures, professionals, orientation managers), sent by the import service."""
from directory.handlers.imports.batch import apply_import, review_import

__all__ = ["apply_import", "review_import"]
