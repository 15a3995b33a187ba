"""``GET /metrics``: the service's and the queue's figures for Prometheus (text exposition).

Each application has its own registry (:class:`Metrics`, on ``app.state.metrics``):

* counted as requests pass (:mod:`.observe`): requests by method, route template (never
  the raw path: ``/v1/jobs/{job_id}``) and status, and their latency by method and route;
  jobs created, callbacks tried by outcome, ledger errors answered 503;
* read when scraped: the Generator's sets made and answered from the cache, the offices'
  conversions, failures, starts and restarts, the slots and queue of the admission; with
  ``--broker``, from Redis: the jobs waiting in the queue, those taken and not yet
  acknowledged, the callbacks still to make, and the workers' outcomes by code (counted
  by every worker, so the figures are the whole cluster's, whichever replica is scraped).

A scrape never waits on Redis for more than about a second: a broker that does not
answer gives ``contractgen_broker_up 0`` and no queue figures. ``/metrics`` needs the
bearer token when the service has one, like ``/v1`` (see :mod:`.auth`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

__all__ = ["LATENCY_BUCKETS", "Metrics", "metrics"]

#: seconds: a validation, a cached set, one PDF, a whole set, a set waiting its turn
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_log = logging.getLogger("contractgen.service")


class Metrics:
    """The registry of one application and the figures counted as requests pass."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "contractgen_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "contractgen_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its answer, by method and route",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs = Counter(
            "contractgen_jobs_created",
            "Jobs created by POST /v1/jobs on this replica, by body (one contract or a round)",
            ["body"],
            registry=self.registry,
        )
        self.callbacks = Counter(
            "contractgen_callbacks",
            "Callbacks tried by this replica, by outcome (delivered, retrying, failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.ledger_errors = Counter(
            "contractgen_ledger_errors",
            "Requests answered 503 because the ledger could not be used",
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(_Live(app))

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """Return the figures as text (or OpenMetrics, when the scraper asks) and its type."""
        encoder, media_type = choose_encoder(accept or "")
        return encoder(self.registry), media_type


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _Live(Collector):
    """The figures read when scraped: the Generator's, the admission's, and Redis's."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def describe(self) -> list[Metric]:
        return []  # what it yields depends on the running service: never checked up front

    def collect(self) -> Iterator[Metric]:
        runtime = getattr(self.app.state, "runtime", None)
        if runtime is None:  # not started (or stopped)
            return
        health = runtime.generator.health()
        sets, conversions = health["sets"], health["conversions"]
        yield _counter("contractgen_sets_made", "Sets made by the Generator", sets["made"])
        yield _counter(
            "contractgen_sets_cached", "Sets answered from the Generator's cache", sets["cached"]
        )
        yield _counter(
            "contractgen_conversions", "Documents converted to PDF", conversions["conversions"]
        )
        yield _counter(
            "contractgen_conversion_failures",
            "Documents LibreOffice could not convert",
            conversions["failures"],
        )
        yield _counter(
            "contractgen_office_starts",
            "Offices started: first starts, recycling, replacements",
            conversions["starts"],
        )
        yield _counter(
            "contractgen_office_restarts",
            "Offices that broke (hung, died) mid-document and were replaced",
            conversions["retries"],
        )
        yield _gauge("contractgen_office_processes", "Office processes", health["office_processes"])
        yield from _admission(runtime)
        if runtime.jobs is not None:
            yield from _queue(runtime.jobs)


def _admission(runtime: Any) -> Iterator[Metric]:
    """Yield the admission's figures: slots, work under way, requests turned away."""
    yield _gauge("contractgen_render_slots", "Renderings that may run at once", runtime.slots)
    yield _gauge("contractgen_rendering", "Renderings running", runtime.running)
    yield _gauge("contractgen_render_waiting", "Requests waiting for a slot", runtime.waiting)
    outcomes = CounterMetricFamily(
        "contractgen_admissions",
        "Renderings admitted and served, rejected (503, saturated) or timed out (504)",
        labels=["outcome"],
    )
    for outcome, count in runtime.counts.items():
        outcomes.add_metric([outcome], count)
    yield outcomes


def _queue(jobs: Any) -> Iterator[Metric]:
    """Yield what Redis holds of the work (the cluster's), or that the broker is down."""
    try:
        state = jobs.queue_state()
    except Exception as exc:  # Redis away or slow: say so, and nothing else
        _log.warning("metrics: the broker did not answer: %s", type(exc).__name__)
        yield _gauge("contractgen_broker_up", "Whether the broker answered this scrape", 0)
        return
    yield _gauge("contractgen_broker_up", "Whether the broker answered this scrape", 1)
    yield _gauge("contractgen_queue_waiting", "Jobs waiting in the queue", state["waiting"])
    yield _gauge(
        "contractgen_queue_unacknowledged",
        "Jobs taken by a worker and not yet acknowledged (running, or lost with a worker)",
        state["unacknowledged"],
    )
    yield _gauge("contractgen_callbacks_pending", "Callbacks still to be made", state["callbacks"])
    outcomes = CounterMetricFamily(
        "contractgen_worker_jobs",
        "Jobs the workers ran, by outcome: made, or the failure's code",
        labels=["outcome"],
    )
    for outcome, count in sorted(state["outcomes"].items()):
        outcomes.add_metric([outcome], count)
    yield outcomes


# ``GET /metrics``: the figures, as Prometheus's text exposition format.
async def metrics(request: Request) -> Response:
    held: Metrics = request.app.state.metrics
    accept = request.headers.get("accept")
    body, media_type = await anyio.to_thread.run_sync(held.exposition, accept)
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})
