import ANNKit

/// Little-endian encoders written from ann-formats(5), independent of the library's writers,
/// so that a round trip cannot hide a mistake made the same way in both directions.
public enum Encode {
    public static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    public static func floats(_ v: some Sequence<Float>) -> [UInt8] { v.flatMap { le($0.bitPattern) } }

    /// A version 2 header: the CRC-32C of bytes 0..<24 at 24 (`crc` replaces it), `reserved` at 28.
    public static func header(magic: String = "ANNV", version: UInt16 = 2, type: UInt8 = 1, metric: UInt8 = 0,
                              dim: UInt32, aux: UInt32 = 0, count: UInt64, crc: UInt32? = nil, reserved: UInt32 = 0) -> [UInt8] {
        let fields = Array(magic.utf8) + le(version) + [type, metric] + le(dim) + le(aux) + le(count)
        return fields + le(crc ?? Checksum.crc32c(fields)) + le(reserved)
    }

    /// `bytes` with the header CRC (bytes 24..<28) recomputed, as a writer that patched a field would.
    public static func resealedHeader(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        b.replaceSubrange(24..<28, with: le(Checksum.crc32c(Array(b[0..<24]))))
        return b
    }

    /// The footer of a native assignment over `records` (ann-formats(5), ANNA).
    public static func assignmentFooter(records: [UInt8], clustering: UInt64 = 1, base: UInt64 = 2, baseCount: UInt32) -> [UInt8] {
        let f = Array("ANNF".utf8) + le(Checksum.crc32c(records)) + le(clustering) + le(base) + le(baseCount)
        return f + le(Checksum.crc32c(f))
    }

    public static func fvecs(_ v: [Float], dim: Int) -> [UInt8] {
        stride(from: 0, to: v.count, by: dim).flatMap { le(Int32(dim)) + floats(v[$0..<($0 + dim)]) }
    }

    public static func bvecs(_ v: [UInt8], dim: Int) -> [UInt8] {
        stride(from: 0, to: v.count, by: dim).flatMap { le(Int32(dim)) + v[$0..<($0 + dim)] }
    }

    public static func fbin(_ v: [Float], dim: Int) -> [UInt8] {
        le(UInt32(v.count / dim)) + le(UInt32(dim)) + floats(v)
    }

    public static func u8bin(_ v: [UInt8], dim: Int) -> [UInt8] {
        le(UInt32(v.count / dim)) + le(UInt32(dim)) + v
    }
}
