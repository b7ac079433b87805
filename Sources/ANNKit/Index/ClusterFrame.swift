/// The decompressed content of one packed cluster (ann-formats(5), ANNI): delta-coded ids as
/// four byte planes, then the vectors as rows (uint8) or byte planes (float32), the layouts
/// that measured smallest under zstd on SIFT.
public enum ClusterFrame {
    public enum Layout: UInt8, Sendable {
        case rows = 1
        case bytePlanes = 2

        public static func preferred(for type: ElementType) -> Layout { type == .uint8 ? .rows : .bytePlanes }
    }

    public static func byteCount(vectors n: Int, dim: Int, type: ElementType) -> Int { n * (4 + dim * type.size) }

    /// Encodes `n` vectors (`ids` ascending, `vectors` as stored) into `out`.
    public static func encode(ids: UnsafePointer<UInt32>, vectors: UnsafeRawPointer, n: Int, dim: Int, type: ElementType,
                              layout: Layout, into out: UnsafeMutableRawPointer) {
        let o = out.assumingMemoryBound(to: UInt8.self)
        var prev: UInt32 = 0
        for i in 0..<n {
            let delta = ids[i] &- prev
            prev = ids[i]
            for b in 0..<4 { o[b * n + i] = UInt8(truncatingIfNeeded: delta >> (8 * UInt32(b))) }
        }
        let rb = dim * type.size
        let v = o + 4 * n
        if layout == .rows || type.size == 1 {
            v.update(from: vectors.assumingMemoryBound(to: UInt8.self), count: n * rb)
        } else {
            let src = vectors.assumingMemoryBound(to: UInt8.self)
            let values = n * dim
            for i in 0..<values { for b in 0..<4 { v[b * values + i] = src[i * 4 + b] } }
        }
    }

    /// Decodes a frame's content: ids into `ids`, vectors converted to float32 into `floats`.
    public static func decode(_ content: UnsafeRawPointer, n: Int, dim: Int, type: ElementType, layout: Layout,
                              ids: UnsafeMutablePointer<UInt32>, floats: UnsafeMutablePointer<Float>) {
        decodeIDs(content, n: n, ids: ids)
        let v = content.assumingMemoryBound(to: UInt8.self) + 4 * n
        let values = n * dim
        if type == .uint8 {
            for i in 0..<values { floats[i] = Float(v[i]) }
        } else if layout == .rows {
            UnsafeMutableRawPointer(floats).copyMemory(from: v, byteCount: values * 4)
        } else {
            for i in 0..<values {
                let bits = UInt32(v[i]) | UInt32(v[values + i]) << 8 | UInt32(v[2 * values + i]) << 16 | UInt32(v[3 * values + i]) << 24
                floats[i] = Float(bitPattern: bits)
            }
        }
    }

    /// Decodes only a frame's ids (its first `4 × n` bytes) into `ids`: what cluster
    /// membership needs, without converting the vectors.
    public static func decodeIDs(_ content: UnsafeRawPointer, n: Int, ids: UnsafeMutablePointer<UInt32>) {
        let c = content.assumingMemoryBound(to: UInt8.self)
        var prev: UInt32 = 0
        for i in 0..<n {
            let delta = UInt32(c[i]) | UInt32(c[n + i]) << 8 | UInt32(c[2 * n + i]) << 16 | UInt32(c[3 * n + i]) << 24
            prev &+= delta
            ids[i] = prev
        }
    }
}
