"""Draft or issue: every request that makes sets says which (``issue=true|false``).

Until 0.3.0 every set the service made was recorded as issued. Now a request
says: ``issue=true`` records the set in the ledger (verifiable, due for
publication, named after who asked); ``issue=false`` makes a draft, recorded
nowhere. A request that says neither is refused with a 400 that explains the
choice, so a caller written for the old behaviour learns of the change at once.
"""

from __future__ import annotations

from . import problems

__all__ = ["ISSUE_DESCRIPTION", "issue_chosen"]

#: what the ``issue`` parameter of the routes that make sets means
ISSUE_DESCRIPTION = (
    "required: true issues the set (recorded in the ledger: verifiable, due for publication); "
    "false makes a draft, recorded nowhere. A draft's files are byte for byte those the same "
    "data issues. true without a ledger (serve --ledger) is a 409 issue.no_ledger."
)


def issue_chosen(issue: bool | None, ledger: object = True) -> bool:
    """Return whether a request issues its sets; 400 when it did not say.

    ``ledger`` is where the service issues into (None: it has none, and ``issue=true``
    is a 409); jobs issue into their workers' ledger and do not pass it.
    """
    if issue is None:
        raise problems.issue_choice()
    if issue and ledger is None:
        raise problems.issue_without_ledger()
    return issue
