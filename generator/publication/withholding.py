"""What a public copy withholds: the kind's defaults of common practice, and what the office adds.

Each kind declares its defaults (``publication.withhold`` and
``publication.withhold_mobile`` of its ``kind.yaml``). For the O&M kind:

* the supplier's bank: 开户银行 and 账号 (``supplier.bank``). An account number with its bank
  is what a payment fraud needs (a forged 变更收款账户 letter in the supplier's name), and
  it serves none of the purposes a public contract serves (who, what, how much, when);
  the bank without the account would still name where the supplier keeps its money;
* a phone or fax number that is a mobile number (``1[3-9]`` and nine digits): it belongs to
  a person, whose number is personal information (《个人信息保护法》第四条), while a
  landline with an area code is the organisation's.

The contract data adds paths under ``publication.withhold`` (checked against the kind's
fields when the data is validated). The values the notice must publish (合同编号, the
parties' names, the amount, the signing date: the kind's envelope) can never be withheld.
"""

from __future__ import annotations

from ..domain.model import MOBILE
from ..kinds import Contract

__all__ = ["MOBILE", "withheld_paths"]


def withheld_paths(contract: Contract) -> tuple[str, ...]:
    """Return the data paths the contract's public copy withholds: defaults, then the data's."""
    return contract.kind.withheld_paths(contract)
