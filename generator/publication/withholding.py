"""What a public copy withholds: the defaults of common practice, and what the office adds.

The defaults, for every contract:

* the supplier's bank: 开户银行 and 账号 (``supplier.bank``). An account number with its bank
  is what a payment fraud needs (a forged 变更收款账户 letter in the supplier's name), and
  it serves none of the purposes a public contract serves (who, what, how much, when);
  the bank without the account would still name where the supplier keeps its money;
* a phone or fax number that is a mobile number (``1[3-9]`` and nine digits): it belongs to
  a person, whose number is personal information (《个人信息保护法》第四条), while a
  landline with an area code is the organisation's.

The contract data adds paths under ``publication.withhold`` (checked against the model
when the data is validated). The values the notice must publish (合同编号, the parties'
names, the amount, the signing date: :data:`generator.domain.model.PUBLIC_PATHS`) can
never be withheld.
"""

from __future__ import annotations

import re

from ..domain.model import Contract

__all__ = ["ALWAYS_WITHHELD", "MOBILE", "PHONE_FIELDS", "withheld_paths"]

#: withheld from every public copy
ALWAYS_WITHHELD = ("supplier.bank.name", "supplier.bank.account")
#: the fields holding phone numbers: withheld when they hold a mobile number
PHONE_FIELDS = ("buyer.phone", "buyer.fax", "supplier.phone", "supplier.fax")
#: a mainland mobile number, as the phone fields accept it
MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)


def _value(contract: Contract, path: str) -> object:
    value: object = contract
    for key in path.split("."):
        value = getattr(value, key)
    return value


def withheld_paths(contract: Contract) -> tuple[str, ...]:
    """Return the data paths the contract's public copy withholds: defaults, then the data's."""
    mobiles = [
        path
        for path in PHONE_FIELDS
        if isinstance(number := _value(contract, path), str) and MOBILE.fullmatch(number)
    ]
    added = contract.publication.withhold if contract.publication else []
    return tuple(dict.fromkeys([*ALWAYS_WITHHELD, *mobiles, *added]))
