"""Damaged copies of the index and of the models: bit flips, byte changes, truncations."""

from formats import DIR_ENTRY, HEADER_SIZE, MODEL_FIXED


# ---------------------------------------------------------------------------------------------
# Damage.

def flip(data, off, bit):
    b = bytearray(data)
    b[off] ^= 1 << bit
    return bytes(b)


def xor(data, off, v):
    b = bytearray(data)
    b[off] ^= v
    return bytes(b)


def damage_index(fx, rng, quick):
    """(class, description, bytes-producing callable) for every index corruption."""
    data, lay = fx.index, fx.layout
    L = len(data)
    out = []
    for off in range(HEADER_SIZE):
        for bit in (rng.sample(range(8), 3) if quick else range(8)):
            out.append(("index header bit", "byte %d bit %d" % (off, bit),
                        lambda o=off, b=bit: flip(data, o, b)))
    ts = lay["tstart"]
    for off in range(ts, L):
        for bit in (rng.sample(range(8), 3) if quick else range(8)):
            out.append(("index trailer bit", "trailer byte %d (file offset L-%d) bit %d"
                        % (off - ts, L - off, bit), lambda o=off, b=bit: flip(data, o, b)))
    # Single-bit flips cannot turn one defined code into another (layout 2 into 1): every
    # byte also gets a seeded nonzero xor, and the layout byte the other defined code.
    for off in range(HEADER_SIZE):
        v = rng.randrange(1, 256)
        out.append(("index header byte", "byte %d xor 0x%02x" % (off, v),
                    lambda o=off, x=v: xor(data, o, x)))
    for off in range(ts, L):
        v = rng.randrange(1, 256)
        out.append(("index trailer byte", "trailer byte %d (file offset L-%d) xor 0x%02x"
                    % (off - ts, L - off, v), lambda o=off, x=v: xor(data, o, x)))
    lo = ts + lay["trailer"]["layout"]
    out.append(("index trailer byte", "layout code %d -> %d" % (data[lo], data[lo] ^ 3),
                lambda o=lo: xor(data, o, 3)))
    dir_range = range(lay["diroff"], ts)
    if quick:
        dir_range = rng.sample(list(dir_range), 200) + list(range(lay["diroff"], lay["centroids"]))
        dir_range = sorted(set(dir_range))
    for off in dir_range:
        v = rng.randrange(1, 256)
        where = ("entry %d byte %d" % ((off - lay["diroff"]) // DIR_ENTRY, (off - lay["diroff"]) % DIR_ENTRY)
                 if off < lay["centroids"] else "centroid byte %d" % (off - lay["centroids"]))
        out.append(("index directory byte", "%s xor 0x%02x" % (where, v),
                    lambda o=off, x=v: xor(data, o, x)))
    frames = rng.sample(range(HEADER_SIZE, lay["diroff"]), 120 if quick else 400)
    for off in sorted(frames):
        v = rng.randrange(1, 256)
        out.append(("index frame byte", "file offset %d xor 0x%02x" % (off, v),
                    lambda o=off, x=v: xor(data, o, x)))
    for n in truncations(L, rng, quick, 100):
        out.append(("index truncation", "first %d of %d bytes" % (n, L), lambda n=n: data[:n]))
    return out


def truncations(L, rng, quick, edge, middle_count=50):
    if quick:
        edge, middle_count = 30, 10
    lengths = set(range(0, min(edge, L))) | set(range(max(0, L - edge), L))
    middle = [n for n in range(edge, L - edge)]
    lengths |= set(rng.sample(middle, min(len(middle), middle_count)))
    return sorted(lengths)


def damage_model(name, data, rng, quick, light=False):
    """light: a model whose format another one already covers exhaustively (the plain MLP is
    the residual MLP's format with w = 0): two bits of every byte, smaller samples."""
    out = []
    L = len(data)
    cls = "model %s" % name
    for off in range(HEADER_SIZE + MODEL_FIXED):
        for bit in (rng.sample(range(8), 1 if quick else 2) if quick or light else range(8)):
            part = "header" if off < HEADER_SIZE else "fixed"
            out.append(("%s %s bit" % (cls, part), "byte %d bit %d" % (off, bit),
                        lambda o=off, b=bit: flip(data, o, b)))
    body = list(range(HEADER_SIZE + MODEL_FIXED, L))
    for off in sorted(rng.sample(body, min(len(body), 30 if quick or light else 120))):
        v = rng.randrange(1, 256)
        out.append(("%s body byte" % cls, "byte %d xor 0x%02x" % (off, v),
                    lambda o=off, x=v: xor(data, o, x)))
    for n in truncations(L, rng, quick or light, 80, 40):
        out.append(("%s truncation" % cls, "first %d of %d bytes" % (n, L), lambda n=n: data[:n]))
    return out

