import ANNKit
import Testing

/// CRC-32C against its published check value and a bit-at-a-time reference; FNV-1a against
/// its published test vectors.
@Suite struct ChecksumTests {
    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) one bit at a time, from its definition.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func checkValue() {
        #expect(Checksum.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(Checksum.crc32c([]) == 0)
        // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones, ascending.
        #expect(Checksum.crc32c([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(Checksum.crc32c([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(Checksum.crc32c((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    /// Every length around the eight-byte steps, and every starting alignment.
    @Test func equalsBitwiseReferenceAtEveryLengthAndAlignment() {
        var rng = RandomGenerator(seed: 11)
        let data = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for start in 0..<8 {
            for length in 0..<70 {
                let slice = Array(data[start..<(start + length)])
                #expect(Checksum.crc32c(slice) == Self.reference(slice), "start \(start) length \(length)")
            }
        }
        #expect(Checksum.crc32c(data) == Self.reference(data))
    }

    /// The seed continues a checksum: crc(a ‖ b) = crc(b, seed: crc(a)).
    @Test func seedContinuesAChecksum() {
        let a = Array("ann-tools packed ".utf8), b = Array("index frames".utf8)
        let whole = Checksum.crc32c(a + b)
        let continued = b.withUnsafeBytes { Checksum.crc32c($0, seed: Checksum.crc32c(a)) }
        #expect(continued == whole)
    }

    @Test func singleBitFlipsChangeTheChecksum() {
        let data = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let good = Checksum.crc32c(data)
        for i in 0..<data.count {
            for bit in 0..<8 {
                var d = data
                d[i] ^= 1 << bit
                #expect(Checksum.crc32c(d) != good)
            }
        }
    }

    @Test func fnv1aTestVectors() {
        func fnv(_ s: String) -> UInt64 { Array(s.utf8).withUnsafeBytes { Checksum.fnv1a($0) } }
        #expect(fnv("") == 0xCBF2_9CE4_8422_2325)
        #expect(fnv("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(fnv("foobar") == 0x8594_4171_F739_67E8)
        // Seeding with a prefix's hash continues it.
        let prefix = Array("foo".utf8).withUnsafeBytes { Checksum.fnv1a($0) }
        #expect(Array("bar".utf8).withUnsafeBytes { Checksum.fnv1a($0, seed: prefix) } == fnv("foobar"))
    }
}
