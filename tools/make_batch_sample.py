"""Write samples/batch.xlsx: the two sample contracts plus varied ones, in the batch layout.

.venv/bin/python tools/make_batch_sample.py
"""

from __future__ import annotations

import copy
from pathlib import Path

from generator.inputs import write_workbook
from generator.inputs.load import load_data

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

#: (contract number, supplier, legal representative, amount, site) of the extra rows
VARIANTS = (
    (
        "11NMB2F042362026202",
        "上海申瑞数据服务有限公司",
        ("李昇", "男"),
        "865000",
        "上海市静安区江场路 1401 号",
    ),
    (
        "11NMB2F042362026203",
        "上海浦江云安科技有限公司",
        ("张堃", "男"),
        "2310500.50",
        "上海市浦东新区张江路 665 号",
    ),
    (
        "11NMB2F042362026204",
        "上海东方智维网络技术有限公司",
        ("周雪", "女"),
        "498000",
        "上海市长宁区金钟路 968 号",
    ),
)


def main() -> None:
    seed = dict(load_data(SAMPLES / "seed.yaml"))
    rows = [seed, dict(load_data(SAMPLES / "cross_year.yaml"))]
    for n, (number, supplier, (person, gender), amount, site) in enumerate(VARIANTS, 1):
        row = copy.deepcopy(seed)
        row["publication"] = {"project_no": f"SHDSJ-2025-YW-{117 + n:04d}"}
        row["contract_no"] = number
        row["supplier"]["name"] = supplier
        row["supplier"]["legal_representative"] = {"name": person, "gender": gender}
        row["amount"] = amount
        row["service"]["site"] = site
        rows.append(row)
    write_workbook(SAMPLES / "batch.xlsx", rows)
    print(SAMPLES / "batch.xlsx")


if __name__ == "__main__":
    main()
