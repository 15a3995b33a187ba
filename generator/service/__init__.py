"""The HTTP service for e-signing platforms (see :mod:`generator.service.app` for the map).

``create_app`` gives the ASGI application; ``serve`` runs it under uvicorn.
"""

from .app import create_app
from .problems import PROBLEM_BASE
from .server import serve
from .settings import Settings

__all__ = ["PROBLEM_BASE", "Settings", "create_app", "serve"]
