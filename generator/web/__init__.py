"""The web workbench: the contract form, live validation, preview and downloads, in Chinese.

Served by the service at ``/`` on the API's port; server-rendered Jinja2 pages
with htmx (vendored, one file) and plain CSS, no script of its own and nothing
from another origin::

    GET  /                      the contract form, defaults filled in
    POST /validate              (htmx) every issue beside its field, a summary, the 大写
    POST /contract              add or remove a row, check, save as YAML, preview the set
                                (a draft: recorded nowhere)
    POST /load                  a YAML or JSON file into the form
    GET  /sets/{id}.zip         the set previewed, as a zip (``/files/{n}``: one file;
                                ``/pages/{d}/{p}.png``: a page picture)
    POST /sets/{id}/issue       签发: the set previewed, recorded in the ledger
    GET  /rounds …              a round: a workbook uploaded, its rows checked, made, reported
    GET  /ledger …              the ledger: search, a contract's versions and history, a
                                version into the form, its public copy and 合同公告
    GET  /verify  POST /verify  whether a file was issued here, and is current
    POST /verify/signed         a signed copy recorded (登记签署件)
    GET  /due                   what is to be published, and by when
    GET  /login  POST /login    the API's token for a session cookie (when there is one)
    POST /logout
    GET  /static/{name}         htmx and the style sheet

================= ==============================================================
``form``          the form built from the model: groups, fields, rows, both ways
``views``         the templates, issues by path, the amount's 大写
``pages``         the handlers of the contract pages; sets kept for downloads
``made``          files made in the workbench, kept for downloads, pictures and 签发
``shared_sets``   with a broker: previews in the shared folder, for every replica
``issuing``       签发: a previewed draft recorded in the ledger
``rounds``        a round: its upload checked, its sets made in the service's slots
``shared_rounds`` with a broker: a round kept in Redis, made by the queue's workers
``round_pages``   the handlers of the round pages
``ledger_pages``  the handlers of the ledger, verification and publication pages
``access``        signing in and out, static files
``security``      session, CSRF, body limits, the Content-Security-Policy
================= ==============================================================
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from . import access, issuing, ledger_pages, pages, round_pages
from .security import BodyTooLarge

__all__ = ["include", "router"]

#: the workbench's routes, none of them in the API's OpenAPI document
router = APIRouter()
router.add_route("/", pages.home, methods=["GET"])
router.add_route("/validate", pages.validate_live, methods=["POST"])
router.add_route("/contract", pages.contract_action, methods=["POST"])
router.add_route("/load", pages.load, methods=["POST"])
router.add_route("/sets/{set_id}.zip", pages.download, methods=["GET"])
router.add_route("/sets/{set_id}/files/{index:int}", pages.download, methods=["GET"])
router.add_route("/sets/{set_id}/pages/{doc:int}/{page:int}.png", pages.download, methods=["GET"])
router.add_route("/sets/{set_id}/issue", issuing.issue, methods=["POST"])
router.add_route("/rounds", round_pages.rounds_page, methods=["GET"])
router.add_route("/rounds", round_pages.upload, methods=["POST"])
router.add_route("/rounds/blank.xlsx", round_pages.blank, methods=["GET"])
router.add_route("/rounds/{round_id}", round_pages.round_page, methods=["GET"])
router.add_route("/rounds/{round_id}/start", round_pages.start, methods=["POST"])
router.add_route("/rounds/{round_id}/progress", round_pages.progress, methods=["GET"])
router.add_route("/rounds/{round_id}/files/{name}", round_pages.round_file, methods=["GET"])
router.add_route("/ledger", ledger_pages.ledger_list, methods=["GET"])
router.add_route("/ledger/set", ledger_pages.ledger_set, methods=["GET"])
router.add_route("/ledger/form", ledger_pages.ledger_form, methods=["GET"])
router.add_route("/ledger/publish", ledger_pages.publish_version, methods=["POST"])
router.add_route("/verify", ledger_pages.verify_page, methods=["GET", "POST"])
router.add_route("/verify/signed", ledger_pages.signed_page, methods=["POST"])
router.add_route("/due", ledger_pages.due_page, methods=["GET"])
router.add_route("/login", access.login_page, methods=["GET"])
router.add_route("/login", access.login, methods=["POST"])
router.add_route("/logout", access.logout, methods=["POST"])
router.add_route("/static/{name}", access.static, methods=["GET"])
router.add_route("/favicon.ico", access.favicon, methods=["GET"])


def include(app: FastAPI) -> None:
    """Add the workbench to an app: its routes, and a 413 page for any body over its limit."""
    app.include_router(router)
    app.add_exception_handler(BodyTooLarge, pages.body_too_large)
