import ANNKit
import Testing

/// Fingerprints (ann-formats(5), FINGERPRINTS): the base fingerprint is exactly the specified
/// word hash whatever the container and however the bytes are fed; the clustering fingerprint
/// of raw centroids is that of the centroids as an index stores them.
@Suite struct FingerprintTests {
    /// The specification, byte by byte: type code, dim, stored bytes; 8-byte little-endian
    /// words into FNV-1a 64, the tail zero-padded, then h ^ (h >> 32).
    static func reference(type: UInt8, dim: Int, stored: [UInt8]) -> UInt64 {
        let bytes = [type] + Encode.le(UInt32(dim)) + stored
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var i = 0
        while i < bytes.count {
            var w: UInt64 = 0
            for j in 0..<8 where i + j < bytes.count { w |= UInt64(bytes[i + j]) << (8 * UInt64(j)) }
            h = (h ^ w) &* 0x0000_0100_0000_01B3
            i += 8
        }
        return h ^ (h >> 32)
    }

    @Test(arguments: [1, 3, 7, 8, 9, 128])
    func baseFingerprintIsTheSpecifiedHashInAnyChunking(_ dim: Int) {
        var rng = RandomGenerator(seed: UInt64(dim))
        let stored = (0..<(dim * 13)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let expected = Self.reference(type: ElementType.uint8.rawValue, dim: dim, stored: stored)
        for chunk in [1, 5, dim, 8 * dim + 3, stored.count] {
            var h = BaseFingerprint(elementType: .uint8, dim: dim)
            stride(from: 0, to: stored.count, by: chunk).forEach { o in
                stored[o..<min(stored.count, o + chunk)].withUnsafeBytes { h.update($0) }
            }
            #expect(h.value == expected, "dim \(dim), chunks of \(chunk)")
        }
        var other = BaseFingerprint(elementType: .float32, dim: dim)
        stored.withUnsafeBytes { other.update($0) }
        #expect(other.value != expected, "the element type is part of the identity")
    }

    /// uint8 vectors in .bvecs, .u8bin and the native stream give one value; the same values as
    /// float32 (.fvecs, .fbin, native) give another, shared by the three.
    @Test func baseFingerprintIgnoresTheContainer() throws {
        let dim = 5
        var rng = RandomGenerator(seed: 3)
        let bytes = (0..<(dim * 37)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let floats = bytes.map(Float.init)
        try withTemporaryDirectory { dir in
            try writeBytes(Encode.bvecs(bytes, dim: dim), to: "\(dir)/b.bvecs")
            try writeBytes(Encode.u8bin(bytes, dim: dim), to: "\(dir)/b.u8bin")
            try writeBytes(Encode.header(type: 2, dim: UInt32(dim), count: 37) + bytes, to: "\(dir)/b.annv")
            try writeBytes(Encode.fvecs(floats, dim: dim), to: "\(dir)/f.fvecs")
            try writeBytes(Encode.fbin(floats, dim: dim), to: "\(dir)/f.fbin")
            try writeBytes(Encode.header(type: 1, dim: UInt32(dim), count: 37) + Encode.floats(floats), to: "\(dir)/f.annv")
            func fingerprint(_ name: String) throws -> UInt64? {
                let r = try VectorReader(path: "\(dir)/\(name)")
                r.fingerprinting = true
                var buf = [UInt8](repeating: 0, count: 4 * dim * 10)
                while try buf.withUnsafeMutableBytes({ try r.readRaw(into: $0.baseAddress!, maxCount: 10) }) > 0 {
                    #expect(r.fingerprint == nil, "no value before the input is exhausted")
                }
                return r.fingerprint
            }
            let u8 = Self.reference(type: 2, dim: dim, stored: bytes)
            let f32 = Self.reference(type: 1, dim: dim, stored: Encode.floats(floats))
            for name in ["b.bvecs", "b.u8bin", "b.annv"] { #expect(try fingerprint(name) == u8, "\(name)") }
            for name in ["f.fvecs", "f.fbin", "f.annv"] { #expect(try fingerprint(name) == f32, "\(name)") }
            #expect(u8 != f32)
            let off = try VectorReader(path: "\(dir)/b.bvecs")
            _ = try off.readAll()
            #expect(off.fingerprint == nil, "not computed unless asked")
        }
    }

    @Test(arguments: [Metric.l2, .ip, .cos])
    func clusteringFingerprintIsThatOfTheStoredCentroids(_ metric: Metric) {
        var rng = RandomGenerator(seed: 11)
        let dim = 6, k = 5
        let raw = (0..<(k * dim)).map { _ in rng.gaussian() * 3 }
        let stored = Fingerprint.storedCentroids(raw, dim: dim, metric: metric)
        if metric == .l2 {
            #expect(stored == raw)
        } else {
            for c in 0..<k {
                let n = stored[(c * dim)..<((c + 1) * dim)].reduce(0) { $0 + Double($1) * Double($1) }
                #expect(abs(n - 1) < 1e-5)
            }
        }
        let expected = (Encode.le(UInt32(k)) + Encode.le(UInt32(dim)) + [metric.code] + Encode.floats(stored))
            .withUnsafeBytes { Checksum.fnv1a($0) }
        #expect(Fingerprint.clustering(centroids: raw, dim: dim, metric: metric) == expected)
        #expect(Fingerprint.clustering(storedCentroids: stored, dim: dim, metric: metric) == expected)
    }
}
