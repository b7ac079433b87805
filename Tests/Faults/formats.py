"""ann-tools file formats as the fault injection reads and writes them: CRC-32C, little-endian
fields, the header, the index trailer and directory, the router model, and resealing each
after a field was changed on purpose."""

import struct


# ---------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), the checksum of every ann-tools format.

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = CRC_TABLE
    for b in data:
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C implementation is wrong"


def u16(b, o): return struct.unpack_from("<H", b, o)[0]
def u32(b, o): return struct.unpack_from("<I", b, o)[0]
def u64(b, o): return struct.unpack_from("<Q", b, o)[0]
def put32(b, o, v): struct.pack_into("<I", b, o, v & 0xFFFFFFFF)
def put64(b, o, v): struct.pack_into("<Q", b, o, v & 0xFFFFFFFFFFFFFFFF)


# ---------------------------------------------------------------------------------------------
# Format knowledge (ann-formats(5)). Every field location comes from these functions, so that
# a format revision changes them and nothing else. Version 2 adds the header CRC and the
# 48-byte index trailer; version 1 is understood only so that the mechanics can run against
# older builds.

HEADER_SIZE = 32
HEADER_CRC = 24          # v2: CRC-32C of header bytes 0..23
HEADER_FIELDS = {"magic": 0, "version": 4, "type": 6, "metric": 7, "dim": 8, "aux": 12, "count": 16}


def parse_header(b):
    return {"magic": bytes(b[0:4]), "version": u16(b, 4), "type": b[6], "metric": b[7],
            "dim": u32(b, 8), "aux": u32(b, 12), "count": u64(b, 16)}


def make_header(magic, version, type_, metric, dim, aux, count):
    h = bytearray(HEADER_SIZE)
    h[0:4] = magic
    struct.pack_into("<HBBIIQ", h, 4, version, type_, metric, dim & 0xFFFFFFFF, aux & 0xFFFFFFFF,
                     count & 0xFFFFFFFFFFFFFFFF)
    seal_header(h)
    return h


def seal_header(buf):
    """Recomputes the header CRC (version 2 and later), as a writer that patches a field does."""
    if u16(buf, 4) >= 2:
        put32(buf, HEADER_CRC, crc32c(buf[0:HEADER_CRC]))


def header_crc_ok(b):
    return u16(b, 4) < 2 or u32(b, HEADER_CRC) == crc32c(b[0:HEADER_CRC])


# Index trailer fields per format version: offsets inside the trailer.
TRAILERS = {
    1: {"size": 32, "magic": 0, "dircrc": 4, "diroff": 8, "fingerprint": 16, "layout": 24,
        "level": 25},
    2: {"size": 48, "magic": 0, "dircrc": 4, "diroff": 8, "fingerprint": 16, "basefp": 24,
        "layout": 32, "level": 33, "count": 40, "crc": 44},
}
DIR_ENTRY = 24   # offset u64, size u32, vectors u32, crc u32, reserved u32


def index_layout(b):
    """Where everything lies in a packed index (ANNI)."""
    h = parse_header(b)
    t = TRAILERS[h["version"]]
    tstart = len(b) - t["size"]
    k, dim = h["aux"], h["dim"]
    diroff = u64(b, tstart + t["diroff"])
    cent = diroff + DIR_ENTRY * k
    return {"header": h, "trailer": t, "tstart": tstart, "k": k, "dim": dim, "diroff": diroff,
            "centroids": cent, "dirend": cent + 4 * k * dim,
            "entries": [diroff + DIR_ENTRY * c for c in range(k)]}


def check_index(b):
    """Asserts that this script reads the index as the tools wrote it (its CRCs verify)."""
    lay = index_layout(b)
    t, ts = lay["trailer"], lay["tstart"]
    assert b[ts:ts + 4] == b"ANNT", "trailer magic"
    assert lay["dirend"] == ts, "directory does not end at the trailer"
    assert u32(b, ts + t["dircrc"]) == crc32c(b[lay["diroff"]:ts]), "directory CRC"
    if "crc" in t:
        assert u32(b, ts + t["crc"]) == crc32c(b[ts:ts + t["crc"]]), "trailer CRC"
    assert header_crc_ok(b), "header CRC"
    for e in lay["entries"]:
        off, size, crc = u64(b, e), u32(b, e + 8), u32(b, e + 16)
        assert crc32c(b[off:off + size]) == crc, "frame CRC"
    return lay


def seal_index(buf):
    """Recomputes every checksum of an index after a field was changed on purpose."""
    lay = index_layout(buf)
    t, ts = lay["trailer"], lay["tstart"]
    put32(buf, ts + t["dircrc"], crc32c(buf[lay["diroff"]:ts]) if lay["diroff"] < ts else 0)
    if "crc" in t:
        put32(buf, ts + t["crc"], crc32c(buf[ts:ts + t["crc"]]))
    seal_header(buf)


def seal_index_fields(buf, tstart, trailer):
    """Like seal_index for a trailer whose directory offset no longer points at the directory:
    the trailer CRC and header CRC are recomputed, the directory CRC is left as it was."""
    if "crc" in trailer:
        put32(buf, tstart + trailer["crc"], crc32c(buf[tstart:tstart + trailer["crc"]]))
    seal_header(buf)


MODEL_FIXED = 32
# Offsets inside the model's fixed bytes (after the header).
MODEL_FIELDS = {"fingerprint": 0, "a": 8, "b": 12, "kind": 16, "arch": 17, "reserved": 18,
                "w": 20, "reserved2": 24}


def model_layout(b):
    h = parse_header(b)
    return {"header": h, "fixed": HEADER_SIZE, "body": HEADER_SIZE + MODEL_FIXED,
            "crc": len(b) - 4, "arch": b[HEADER_SIZE + MODEL_FIELDS["arch"]]}


def check_model(b):
    lay = model_layout(b)
    assert header_crc_ok(b), "model header CRC"
    assert u32(b, lay["crc"]) == crc32c(b[HEADER_SIZE:lay["crc"]]), "model body CRC"
    assert HEADER_SIZE + MODEL_FIXED + 4 * lay["header"]["count"] + 4 == len(b), "model count"
    return lay


def seal_model(buf):
    put32(buf, len(buf) - 4, crc32c(buf[HEADER_SIZE:len(buf) - 4]))
    seal_header(buf)
