"""dbkit: versioned raw-SQL migrations, verification and lint for PostgreSQL."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
