import ANNKit

/// A packed index's bytes, read and edited by hand as ann-formats(5) lays them out (a 48-byte
/// trailer, a directory of 24-byte entries and the centroids), with the checksums recomputed
/// only when a test asks, so that it can reach the checks that lie behind them.
public struct IndexBytes {
    public typealias Entry = (offset: Int, size: Int, vectors: Int, crc: UInt32, reserved: UInt32)

    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ path: String) throws { bytes = try readBytes(path) }

    public func u32(_ o: Int) -> UInt32 { bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) } }
    public func u64(_ o: Int) -> UInt64 { bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) } }
    public mutating func set(_ v: some FixedWidthInteger, at o: Int) {
        let b = Encode.le(v)
        bytes.replaceSubrange(o..<(o + b.count), with: b)
    }

    public var clusterCount: Int { Int(u32(12)) }
    public var dim: Int { Int(u32(8)) }
    public var trailerStart: Int { bytes.count - 48 }
    public var trailer: ArraySlice<UInt8> { bytes[trailerStart...] }
    public var dirOffset: Int { Int(u64(trailerStart + 8)) }
    public var directory: ArraySlice<UInt8> { bytes[dirOffset..<trailerStart] }

    public func entry(_ c: Int) -> Entry {
        let o = dirOffset + 24 * c
        return (Int(u64(o)), Int(u32(o + 8)), Int(u32(o + 12)), u32(o + 16), u32(o + 20))
    }

    public var entries: [Entry] { (0..<clusterCount).map(entry) }

    public func frame(_ c: Int) -> ArraySlice<UInt8> {
        let e = entry(c)
        return bytes[e.offset..<(e.offset + e.size)]
    }

    /// Rewrites the trailer's own CRC, so that only the checks of its fields can notice a change.
    public mutating func resealTrailer() {
        set(Checksum.crc32c(Array(bytes[trailerStart..<(trailerStart + 44)])), at: trailerStart + 44)
    }

    /// Rewrites the directory CRC in the trailer (and the trailer's CRC), so that only deeper
    /// checks can notice a change.
    public mutating func resealDirectory() {
        set(Checksum.crc32c(Array(directory)), at: trailerStart + 4)
        resealTrailer()
    }

    /// Changes fields of cluster `c`'s entry, leaving the checksums as they were.
    public mutating func setEntry(_ c: Int, offset: UInt64? = nil, size: UInt32? = nil, vectors: UInt32? = nil, crc: UInt32? = nil) {
        let o = dirOffset + 24 * c
        if let offset { set(offset, at: o) }
        if let size { set(size, at: o + 8) }
        if let vectors { set(vectors, at: o + 12) }
        if let crc { set(crc, at: o + 16) }
    }

    /// Sets cluster `c`'s vector count, every checksum recomputed.
    public mutating func setVectors(_ n: UInt32, ofCluster c: Int) {
        setEntry(c, vectors: n)
        resealDirectory()
    }

    /// Sets the base's vector count N in the header and the trailer, both resealed.
    public mutating func setBaseCount(_ n: UInt32) {
        set(UInt64(n), at: 16)
        bytes = Encode.resealedHeader(bytes)
        set(n, at: trailerStart + 40)
        resealTrailer()
    }

    /// Replaces cluster `c`'s frame by one encoded here from `ids` and float32 `vectors` (with
    /// `extra` bytes after it), moving what follows and recomputing every checksum, so that
    /// only the checks of the frame's content can notice.
    public mutating func replaceFrame(_ c: Int, ids: [UInt32], vectors: [Float], appending extra: [UInt8] = []) {
        let n = ids.count, d = dim
        var content = [UInt8](repeating: 0, count: ClusterFrame.byteCount(vectors: n, dim: d, type: .float32))
        content.withUnsafeMutableBytes { out in
            ids.withUnsafeBufferPointer { i in
                vectors.withUnsafeBytes { v in
                    ClusterFrame.encode(ids: i.baseAddress!, vectors: v.baseAddress!, n: n, dim: d, type: .float32,
                                        layout: .bytePlanes, into: out.baseAddress!)
                }
            }
        }
        var frame = [UInt8]()
        try! content.withUnsafeBytes { try Zstd.compress($0, level: 3, into: &frame) }
        frame += extra
        let before = entries, old = before[c]
        let shift = frame.count - old.size
        bytes.replaceSubrange(old.offset..<(old.offset + old.size), with: frame)
        set(UInt64(dirOffset + shift), at: trailerStart + 8)
        for (e, entry) in before.enumerated() where e != c && entry.offset > old.offset {
            setEntry(e, offset: UInt64(entry.offset + shift))
        }
        setEntry(c, size: UInt32(frame.count), vectors: UInt32(n), crc: Checksum.crc32c(frame))
        resealDirectory()
    }
}
