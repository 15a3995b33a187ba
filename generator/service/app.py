"""The HTTP service for e-signing platforms: a thin FastAPI layer over :mod:`generator.pipeline`.

::

    POST /v1/contracts              the whole set: zip, or JSON with base64 files
    POST /v1/contracts/{kind}.pdf   one document's sealable PDF, seal fields in X-Seal-Fields
    POST /v1/publications           the public copy and 合同公告 of an issued contract, recorded
    POST /v1/validate               {"valid": bool, "issues": [{path, code, message}]}
    GET  /v1/schema                 the JSON Schema of the default kind's data
    GET  /v1/kinds                  the contract kinds: documents, seal places, schema links
    GET  /v1/kinds/{id}/schema      one kind's JSON Schema
    POST /v1/verify                 is a file (PDF, DOCX, a set's zip) issued here, and current?
    POST /v1/ledger/signed          a signed copy from the e-signing platform, checked and recorded
    GET  /v1/ledger/sets            the recorded versions; filters in the query
    GET  /v1/ledger/sets/{no}       a contract's newest version (/{version}: that one)
    GET  /v1/ledger/sets/{no}/history   every event about a contract
    GET  /v1/ledger/check           the event chain and every row recomputed
    GET  /healthz                   liveness and worker statistics (never needs the token)
    GET  /readyz                    readiness: the ledger, the broker and an office (no token)
    GET  /metrics                   Prometheus's text exposition (the token, like /v1)
    GET  /openapi.json              the OpenAPI document

This module wires the routes to their handlers; the rest of the house:

=============== ================================================================
``settings``    :class:`Settings`: address, workers, token, limits, templates
``lifespan``    the ledger and the Generator opened, and closed at the end
``routes``      the handlers of the rendering routes
``kind_routes`` the handlers of ``/v1/kinds``
``publication_routes`` the handler of ``/v1/publications``
``ledger_routes`` the handlers of ``/v1/verify`` and ``/v1/ledger``
``verification`` a file's verdict: current, outdated, unknown, untrusted
``bodies``      request bodies: type, size, read timeout, JSON
``negotiation`` ``Content-Type`` and ``Accept``
``admission``   the Generator and ledger, the slots and queue, deadlines (503, 504)
``problems``    every error answer: the one place errors become statuses
``auth``        the bearer token of ``/v1``
``answers``     how answers are packed: Content-Disposition, JSON headers, zips
``openapi``     the OpenAPI description
``connections`` read timeout and connection cap below the application
``server``      :func:`serve`: uvicorn, signals, the logging configured
``observe``     every request's id, access line and figures, around everything
``metrics``     ``/metrics``: the registry, and the figures read when scraped
``readiness``   ``/readyz``: the ledger, the broker and an office, checked
=============== ================================================================

The rendering runs in a thread against one :class:`~generator.pipeline.Generator`
owned by the application's lifespan, and every set made is recorded, in that
thread, in the :class:`~generator.ledger.Ledger` the lifespan opened
(``X-Ledger`` says how). Every error leaves as ``application/problem+json``
(RFC 9457).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response

from .. import web
from .._version import __version__
from ..users import Directory
from ..web.security import SECRET_ENVIRONMENT
from . import kind_routes, ledger_routes, metrics, openapi, publication_routes, readiness, routes
from .auth import BearerGuard, HostGuard, allowed_hosts
from .job_routes import add_job_routes
from .lifespan import QuietStartupFailure, lifespan_of
from .observe import ObservedApp
from .problems import add_error_handlers
from .settings import Settings
from .signed_docs import SIGNED_BODY, SIGNED_RESPONSES

__all__ = ["create_app"]

_log = logging.getLogger("contractgen.service")

_DESCRIPTION = (
    "Generate the Shanghai Big Data Center O&M contract set (运维服务合同, 保密协议, "
    "廉洁协议, 履约验收方案) as DOCX and sealable PDF for e-signing platforms."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the service as an ASGI application; its lifespan owns the Generator and ledger."""
    settings = settings or Settings()
    app = ObservedApp(
        title="contractgen",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan_of(settings),
        docs_url=None,
        redoc_url=None,
    )
    app.openapi = openapi.openapi_builder(app, settings)  # type: ignore[method-assign]
    directory = Directory(settings.users, settings.token)
    app.state.directory = directory
    if directory.enabled and not os.environ.get(SECRET_ENVIRONMENT):
        _log.warning(
            "sessions use a key of this process: they end when it restarts, and "
            "replicas behind one load balancer need %s set alike",
            SECRET_ENVIRONMENT,
        )
    if directory.enabled:
        app.add_middleware(BearerGuard, directory=directory)
    app.add_middleware(HostGuard, names=allowed_hosts(settings.host, settings.allowed_hosts))
    app.add_middleware(QuietStartupFailure)
    add_error_handlers(app)
    _rendering_routes(app)
    _ledger_routes(app)
    add_job_routes(app)
    app.add_api_route(
        "/healthz",
        routes.healthz,
        methods=["GET"],
        summary="Liveness and worker statistics",
        openapi_extra={"security": []},
        responses=openapi.HEALTH_RESPONSES,
    )
    # operations' own: not in the OpenAPI document (see README: Logs, readiness and metrics)
    app.add_api_route("/readyz", readiness.readyz, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        "/metrics",
        metrics.metrics,
        methods=["GET"],
        include_in_schema=False,
        response_class=PlainTextResponse,
    )
    web.include(app)  # the workbench at /
    return app


def _rendering_routes(app: FastAPI) -> None:
    """Add the routes that render, validate and describe contract data."""
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
        "/v1/publications",
        publication_routes.publications,
        methods=["POST"],
        summary="Publish a contract: its public copy and 合同公告",
        response_class=Response,
        openapi_extra=openapi.CONTRACT_BODY,
        responses=openapi.PUBLICATION_RESPONSES,
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
        "/v1/kinds",
        kind_routes.kind_list,
        methods=["GET"],
        summary="The contract kinds",
        responses=openapi.KINDS_RESPONSES,
    )
    app.add_api_route(
        "/v1/kinds/{kind_id}/schema",
        kind_routes.kind_schema,
        methods=["GET"],
        summary="One kind's JSON Schema",
        response_class=Response,
        responses=openapi.KIND_SCHEMA_RESPONSES,
    )


def _ledger_routes(app: FastAPI) -> None:
    """Add the routes of the ledger: verify, list, show, history, check."""
    app.add_api_route(
        "/v1/verify",
        ledger_routes.verify,
        methods=["POST"],
        summary="Verify a file against the ledger",
        openapi_extra=openapi.FILE_BODY,
        responses=openapi.VERIFY_RESPONSES,
    )
    app.add_api_route(
        "/v1/ledger/signed",
        ledger_routes.signed_copy,
        methods=["POST"],
        summary="Record a signed copy returned by the e-signing platform",
        openapi_extra=SIGNED_BODY,
        responses=SIGNED_RESPONSES,
    )
    reads: list[tuple[str, Callable[..., Any], str, dict[int | str, dict[str, Any]]]] = [
        (
            "/v1/ledger/sets",
            ledger_routes.ledger_sets,
            "List recorded versions",
            openapi.LEDGER_SETS_RESPONSES,
        ),
        (
            "/v1/ledger/check",
            ledger_routes.ledger_check,
            "Check the ledger's integrity",
            openapi.LEDGER_CHECK_RESPONSES,
        ),
        # history before {version}: "history" is not a version
        (
            "/v1/ledger/sets/{contract_no}/history",
            ledger_routes.ledger_history,
            "A contract's history",
            openapi.LEDGER_HISTORY_RESPONSES,
        ),
        (
            "/v1/ledger/sets/{contract_no}",
            ledger_routes.ledger_latest,
            "A contract's newest version",
            openapi.LEDGER_SET_RESPONSES,
        ),
        (
            "/v1/ledger/sets/{contract_no}/{version}",
            ledger_routes.ledger_version,
            "One version of a contract",
            openapi.LEDGER_VERSION_RESPONSES,
        ),
    ]
    for path, handler, summary, responses in reads:
        app.add_api_route(path, handler, methods=["GET"], summary=summary, responses=responses)
