"""Limits shared by the fault-injection modules, and reading a whole file.

The limits are read as attributes of this module (common.TIMEOUT, not a copy imported by
name), so that every module sees one value."""

MB = 1 << 20
HOSTILE_RSS = 400 * MB
TIMEOUT = 60.0
# Every run is confined to this much address space, so that a runaway allocation dies (and
# fails its case) instead of taking the machine's memory; the RSS bounds lie far below it.
ADDRESS_SPACE = 2 << 30


def read_file(p):
    with open(p, "rb") as f:
        return f.read()

