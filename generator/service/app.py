"""The HTTP service for e-signing platforms: a thin FastAPI layer over :mod:`generator.pipeline`.

::

    POST /v1/contracts              the whole set: zip, or JSON with base64 files
    POST /v1/contracts/{kind}.pdf   one document's sealable PDF, seal fields in X-Seal-Fields
    POST /v1/validate               {"valid": bool, "issues": [{path, code, message}]}
    GET  /v1/schema                 the JSON Schema of contract data
    GET  /healthz                   liveness and worker statistics (never needs the token)
    GET  /openapi.json              the OpenAPI document

This module wires the routes to their handlers; the rest of the house:

=============== ================================================================
``settings``    :class:`Settings`: address, workers, token, limits, templates
``routes``      the handlers
``bodies``      request bodies: type, size, read timeout, JSON
``negotiation`` ``Content-Type`` and ``Accept``
``admission``   the Generator, its slots and queue, deadlines (503, 504)
``problems``    every error answer: the one place errors become statuses
``auth``        the bearer token of ``/v1``
``openapi``     the OpenAPI description
``connections`` read timeout and connection cap below the application
``server``      :func:`serve`: uvicorn, signals
=============== ================================================================

The rendering runs in a thread against one :class:`~generator.pipeline.Generator`
owned by the application's lifespan. Every error leaves as
``application/problem+json`` (RFC 9457).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.responses import Response

from .._version import __version__
from ..pipeline import Generator
from . import openapi, routes
from .admission import Runtime
from .auth import BearerGuard
from .problems import add_error_handlers
from .settings import Settings

__all__ = ["create_app"]

_DESCRIPTION = (
    "Generate the Shanghai Big Data Center O&M contract set (运维服务合同, 保密协议, "
    "廉洁协议, 履约验收方案) as DOCX and sealable PDF for e-signing platforms."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the service as an ASGI application; its lifespan owns the Generator."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        generator = Generator(
            workers=settings.workers,
            timeout=settings.timeout,
            cached_sets=settings.cached_sets,
            templates=settings.templates,
        )
        try:
            async with anyio.create_task_group() as tasks:
                app.state.runtime = Runtime(generator, tasks, settings)
                yield
                # leaving the group waits for renders that outlived their request
        finally:
            await anyio.to_thread.run_sync(generator.close)

    app = FastAPI(
        title="contractgen",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.openapi = openapi.openapi_builder(app, settings)  # type: ignore[method-assign]
    if settings.token:
        app.add_middleware(BearerGuard, token=settings.token)
    add_error_handlers(app)

    app.add_api_route(
        "/v1/contracts",
        routes.contracts,
        methods=["POST"],
        summary="Render the whole contract set",
        response_class=Response,
        openapi_extra=openapi.CONTRACT_BODY,
        responses=openapi.CONTRACTS_RESPONSES,
    )
    app.add_api_route(
        "/v1/contracts/{kind}.pdf",
        routes.document_pdf,
        methods=["POST"],
        summary="Render one document as a sealable PDF",
        response_class=Response,
        openapi_extra=openapi.CONTRACT_BODY,
        responses=openapi.DOCUMENT_RESPONSES,
    )
    app.add_api_route(
        "/v1/validate",
        routes.validate_contract,
        methods=["POST"],
        summary="Validate contract data",
        openapi_extra=openapi.ANY_BODY,
        responses=openapi.VALIDATE_RESPONSES,
    )
    app.add_api_route(
        "/v1/schema",
        routes.schema,
        methods=["GET"],
        summary="The JSON Schema of contract data",
        response_class=Response,
        responses=openapi.SCHEMA_RESPONSES,
    )
    app.add_api_route(
        "/healthz",
        routes.healthz,
        methods=["GET"],
        summary="Liveness and worker statistics",
        openapi_extra={"security": []},
        responses=openapi.HEALTH_RESPONSES,
    )
    return app
