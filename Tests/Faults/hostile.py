"""Hostile files: headers of every format the tools read whose fields claim absurd sizes,
written with valid checksums."""

import struct

from formats import (HEADER_FIELDS, HEADER_SIZE, MODEL_FIELDS, make_header, model_layout,
                     put32, put64, seal_header, seal_index, seal_index_fields, seal_model, u32,
                     u64)


# ---------------------------------------------------------------------------------------------
# Hostile headers: small files whose header fields claim absurd sizes; every checksum that
# covers them is valid, so only the bounds checks can refuse them.

def foreign_hostile():
    """(form, description, bytes) for the TEXMEX and big-ann-benchmarks forms."""
    out = []
    pad = bytes(64)
    for form in ("fvecs", "bvecs", "ivecs"):
        for d, what in ((1 << 30, "dim 2^30"), (0x7FFFFFFF, "dim 2^31-1"), (-1, "dim -1"),
                        (-(1 << 31), "dim -2^31"), (0, "dim 0"), (1 << 20, "dim 2^20")):
            out.append((form, what, struct.pack("<i", d) + pad))
        # a first record of dim 4, then one that claims 2^28
        esize = 1 if form == "bvecs" else 4
        out.append((form, "second record dim 2^28",
                    struct.pack("<i", 4) + bytes(4 * esize) + struct.pack("<i", 1 << 28) + pad))
    for form in ("fbin", "u8bin", "ibin"):
        for n, d, what in ((0xFFFFFFFF, 0xFFFFFFFF, "n and d 2^32-1"),
                           (1, 1 << 31, "d 2^31"), (1 << 31, 128, "n 2^31"),
                           (0xFFFFFFFF, 2, "n 2^32-1, d 2"), (1, 0, "d 0"),
                           (1 << 16, 1 << 16, "n*d 2^32")):
            out.append((form, what, struct.pack("<II", n, d) + pad))
    return out


STREAM_KINDS = {"ANNV": ".annv", "ANNN": ".annn", "ANNA": ".anna"}


def native_hostile(version):
    """(kind, description, bytes) for the native streams, with a valid header CRC."""
    out = []
    pad = bytes(256)
    specs = {
        "ANNV": (1, 1, 128, 0),
        "ANNN": (0, 1, 10, 0),
        "ANNA": (0, 0, 2, 8),
    }
    for magic, (t, m, dim, aux) in specs.items():
        def h(**kw):
            f = dict(type_=t, metric=m, dim=dim, aux=aux, count=1)
            f.update(kw)
            return bytes(make_header(magic.encode(), version, f["type_"], f["metric"], f["dim"],
                                     f["aux"], f["count"])) + pad
        out += [
            (magic, "count 2^64-2", h(count=(1 << 64) - 2)),
            (magic, "count 2^40", h(count=1 << 40)),
            (magic, "count 2^31", h(count=1 << 31)),
            (magic, "dim 2^32-1", h(dim=0xFFFFFFFF)),
            (magic, "dim 2^31", h(dim=1 << 31)),
            (magic, "dim 2^24, count unknown", h(dim=1 << 24, count=(1 << 64) - 1)),
            (magic, "dim 0", h(dim=0)),
            (magic, "type code 9", h(type_=9)),
            (magic, "metric code 9", h(metric=9)),
            (magic, "reserved field set", (lambda b: b[:28] + b"\x01" + b[29:])(h())),
        ]
        if magic == "ANNA":
            out += [(magic, "K 2^32-1", h(aux=0xFFFFFFFF)), (magic, "K 0", h(aux=0)),
                    (magic, "dim 3", h(dim=3))]
        if magic == "ANNV":
            out += [(magic, "uint8, count 2^62", h(type_=2, count=1 << 62))]
    return out


def index_hostile(fx):
    """(description, bytes) for an index with hostile fields and recomputed checksums."""
    data, lay = fx.index, fx.layout
    t, ts = lay["trailer"], lay["tstart"]
    out = []

    def trailer_field(field, value, width=8):
        b = bytearray(data)
        (put64 if width == 8 else put32)(b, ts + t[field], value)
        if width == 1:
            b[ts + t[field]] = value
        seal_index_fields(b, ts, t)
        return bytes(b)

    def trailer_byte(field, value):
        b = bytearray(data)
        b[ts + t[field]] = value
        seal_index_fields(b, ts, t)
        return bytes(b)

    diroff = lay["diroff"]
    out += [("directory offset with bit 63 set", trailer_field("diroff", diroff | 1 << 63)),
            ("directory offset 2^64-1", trailer_field("diroff", (1 << 64) - 1)),
            ("directory offset past the end", trailer_field("diroff", len(data) + 4096)),
            ("directory offset 0", trailer_field("diroff", 0)),
            ("directory offset inside the header", trailer_field("diroff", 8)),
            ("directory offset one byte late", trailer_field("diroff", diroff + 1)),
            ("layout code 0", trailer_byte("layout", 0)),
            ("layout code 3", trailer_byte("layout", 3)),
            ("layout code 255", trailer_byte("layout", 255))]
    if "count" in t:
        out.append(("trailer vector count 2^32-1", trailer_field("count", 0xFFFFFFFF, 4)))
        out.append(("zstd level 200", trailer_byte("level", 200)))

    def header_field(field, value, width):
        b = bytearray(data)
        (put64 if width == 8 else put32)(b, HEADER_FIELDS[field], value)
        seal_header(b)
        return bytes(b)

    out += [("K 2^32-1", header_field("aux", 0xFFFFFFFF, 4)),
            ("K 2^20", header_field("aux", 1 << 20, 4)),
            ("K 0", header_field("aux", 0, 4)),
            ("dim 2^31", header_field("dim", 1 << 31, 4)),
            ("dim 2^32-1", header_field("dim", 0xFFFFFFFF, 4)),
            ("count N 2^40", header_field("count", 1 << 40, 8)),
            ("count N 1", header_field("count", 1, 8))]

    def entry(c, off, value, width):
        b = bytearray(data)
        e = lay["entries"][c]
        (put64 if width == 8 else put32)(b, e + off, value)
        seal_index(b)
        return bytes(b)

    out += [("cluster 0 claims 2^26 vectors", entry(0, 12, 1 << 26, 4)),
            ("cluster 0 claims 2^32-1 vectors", entry(0, 12, 0xFFFFFFFF, 4)),
            ("last cluster claims one vector more", entry(fx.k - 1, 12,
                                                         u32(data, lay["entries"][-1] + 12) + 1, 4)),
            ("cluster 0 frame size 2^32-1", entry(0, 8, 0xFFFFFFFF, 4)),
            ("cluster 0 frame offset bit 63", entry(0, 0, u64(data, lay["entries"][0]) | 1 << 63, 8)),
            ("cluster 0 frame offset 2^64-8", entry(0, 0, (1 << 64) - 8, 8)),
            ("cluster 0 frame offset 0 (the header)", entry(0, 0, 0, 8)),
            ("cluster 1 frame = cluster 0 frame", _copy_entry(data, lay, 0, 1)),
            ("entry reserved field set", entry(0, 20, 1, 4))]
    return out


def _copy_entry(data, lay, src, dst):
    b = bytearray(data)
    es, ed = lay["entries"][src], lay["entries"][dst]
    b[ed:ed + 8] = b[es:es + 8]
    b[ed + 8:ed + 12] = b[es + 8:es + 12]
    b[ed + 16:ed + 20] = b[es + 16:es + 20]
    seal_index(b)
    return bytes(b)


def model_hostile(fx):
    """(model, description, bytes) for models with hostile fields and recomputed checksums."""
    out = []
    for name, data in fx.models.items():
        lay = model_layout(data)
        count = lay["header"]["count"]
        f0 = HEADER_SIZE

        def hdr(value, data=data):
            b = bytearray(data)
            put64(b, HEADER_FIELDS["count"], value)
            seal_header(b)
            return bytes(b)

        def fixed(off, value, width=4, data=data):
            b = bytearray(data)
            if width == 1:
                b[f0 + off] = value
            else:
                (put32 if width == 4 else put64)(b, f0 + off, value)
            seal_model(b)
            return bytes(b)

        def fixed_float(off, value, data=data):
            b = bytearray(data)
            struct.pack_into("<f", b, f0 + off, value)
            seal_model(b)
            return bytes(b)

        def weight(i, value, data=data):
            b = bytearray(data)
            struct.pack_into("<f", b, lay["body"] + 4 * i, value)
            seal_model(b)
            return bytes(b)

        b19 = bytearray(data)
        b19[19] = 0x40
        seal_header(b19)
        b19b = bytearray(data)
        b19b[19] = 0x80
        seal_header(b19b)
        out += [(name, "count byte 19 = 0x40 (4 GiB)", bytes(b19)),
                (name, "count byte 19 = 0x80 (8 GiB)", bytes(b19b)),
                (name, "count 2^62", hdr(1 << 62)),
                (name, "count 2^64-2", hdr((1 << 64) - 2)),
                (name, "count one word more", hdr(count + 1)),
                (name, "count one word less", hdr(count - 1)),
                (name, "count 0", hdr(0)),
                (name, "architecture 3", fixed(MODEL_FIELDS["arch"], 3, 1)),
                (name, "reserved fixed bytes set", fixed(MODEL_FIELDS["reserved2"], 1, 8)),
                (name, "w = NaN", fixed_float(MODEL_FIELDS["w"], float("nan"))),
                (name, "w = +inf", fixed_float(MODEL_FIELDS["w"], float("inf"))),
                (name, "first array value NaN", weight(0, float("nan"))),
                # A PQ model's last words are codes, where any bytes are valid: its second
                # codebook value stands in.
                (name, "second array value +inf" if lay["arch"] == 2 else "last array value +inf",
                 weight(1 if lay["arch"] == 2 else count - 1, float("inf")))]
        if lay["arch"] == 0:
            out += [(name, "h1 2^30", fixed(MODEL_FIELDS["a"], 1 << 30)),
                    (name, "h2 2^31", fixed(MODEL_FIELDS["b"], 1 << 31)),
                    (name, "h1 0", fixed(MODEL_FIELDS["a"], 0)),
                    (name, "activation 2", fixed(MODEL_FIELDS["kind"], 2, 1)),
                    (name, "a weight in the middle NaN", weight(count // 2, float("nan")))]
        else:
            out += [(name, "m 2^30 points", fixed(MODEL_FIELDS["a"], 1 << 30)),
                    (name, "m 0 points", fixed(MODEL_FIELDS["a"], 0)),
                    (name, "C = K", fixed(MODEL_FIELDS["b"], fx.k)),
                    (name, "C 2^32-1", fixed(MODEL_FIELDS["b"], 0xFFFFFFFF)),
                    (name, "point type 2", fixed(MODEL_FIELDS["kind"], 2, 1)),
                    (name, "w = -1", fixed_float(MODEL_FIELDS["w"], -1.0))]
    return out

