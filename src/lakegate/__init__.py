"""lakegate: files -> checked, versioned lake -> models -> predictions.

The core library never imports Django; the service lives in ``lakegate_server``.
"""

from lakegate._project import init_project
from lakegate.config import ProjectPaths, Settings, find_project_dir, load_settings
from lakegate.errors import LakegateError

__version__ = "0.1.0"

__all__ = [
    "LakegateError",
    "ProjectPaths",
    "Settings",
    "__version__",
    "find_project_dir",
    "init_project",
    "load_settings",
]
