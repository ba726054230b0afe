#!/usr/bin/env python3
"""Writes the golden vectors of tests/smpp/codec_test.cpp as the PDU fuzzer's
seed corpus (tests/fuzz/corpus/pdu/), one file per row. Run it again after
adding golden rows."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parents[2]
source = (root / "tests/smpp/codec_test.cpp").read_text()
body = source[source.index("const std::vector<golden_row>& golden()"):]
body = body[:body.index("\n  };")]
out = root / "tests/fuzz/corpus/pdu"
out.mkdir(parents=True, exist_ok=True)
for old in out.glob("golden_*"):
    old.unlink()

rows = re.split(r"\n\s*(?=\{\")", body)[1:]
count = 0
for row in rows:
    # The hex of a row is the run of string literals that each open a line.
    hex_parts = re.findall(r'^\s*"([0-9A-Fa-f ]+)"', row, re.M)
    data = bytes.fromhex("".join(hex_parts).replace(" ", ""))
    if len(data) < 16:
        continue
    count += 1
    (out / f"golden_{count:02d}").write_bytes(data)
print(f"wrote {count} seeds to {out.relative_to(root)}")
