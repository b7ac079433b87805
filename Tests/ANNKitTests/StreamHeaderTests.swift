import ANNKit
import Testing

@Suite struct StreamHeaderTests {
    @Test func encodesTheLayoutOfAnnFormats5() {
        let h = StreamHeader(kind: .vectors, elementType: .float32, metric: .l2, dim: 128, count: 1024)
        // The worked example of ann-formats(5), READING A HEADER BY HAND.
        #expect(h.encoded() == Encode.header(type: 1, metric: 1, dim: 128, count: 1024))
        #expect(h.encoded().count == StreamHeader.size)
        // The bytes as the page prints them, checksum included (computed apart from this library).
        let page: [UInt8] = [0x41, 0x4E, 0x4E, 0x56, 0x02, 0x00, 0x01, 0x01, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                             0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x77, 0x6D, 0x5E, 0x51, 0x00, 0x00, 0x00, 0x00]
        #expect(h.encoded() == page)
    }

    @Test(arguments: [
        StreamHeader(kind: .vectors, elementType: .uint8, metric: nil, dim: 96, count: 7),
        StreamHeader(kind: .vectors, elementType: .float32, metric: .cos, dim: 1, count: nil),
        StreamHeader(kind: .neighbors, elementType: nil, metric: .ip, dim: 100, count: 10_000),
        StreamHeader(kind: .assignment, elementType: nil, metric: nil, dim: 2, aux: 4096, count: 1_000_000),
        StreamHeader(kind: .model, elementType: nil, metric: .l2, dim: 3, aux: 7, count: 0),
        StreamHeader(kind: .index, elementType: nil, metric: nil, dim: 1 << 20, count: nil),
    ])
    func roundTrips(_ h: StreamHeader) throws {
        let back = try StreamHeader.decode(h.encoded(), source: "t")
        #expect(back == h)
    }

    @Test func unknownCountIsAllOnes() throws {
        let h = StreamHeader(kind: .vectors, elementType: .float32, metric: nil, dim: 4, count: nil)
        #expect(Array(h.encoded()[16..<24]) == [UInt8](repeating: 0xFF, count: 8))
        #expect(try StreamHeader.decode(h.encoded(), source: "t").count == nil)
    }

    /// Each corruption must be refused as bad data naming the source, never accepted.
    @Test(arguments: [
        ("bad magic", Encode.header(magic: "ANNX", dim: 4, count: 1)),
        ("lower-case magic", Encode.header(magic: "annv", dim: 4, count: 1)),
        ("unknown version", Encode.header(version: 3, dim: 4, count: 1)),
        ("version zero", Encode.header(version: 0, dim: 4, count: 1)),
        ("version one", Encode.header(version: 1, dim: 4, count: 1)),
        ("nonzero reserved", Encode.header(dim: 4, count: 1, reserved: 1)),
        ("nonzero reserved high byte", Encode.header(dim: 4, count: 1, reserved: 1 << 24)),
        ("checksum of other fields", Encode.header(dim: 4, count: 1, crc: Checksum.crc32c(Encode.header(dim: 4, count: 2).prefix(24).map { $0 }))),
        ("zero checksum", Encode.header(dim: 4, count: 1, crc: 0)),
        ("zero dim", Encode.header(dim: 0, count: 1)),
        ("unknown element type", Encode.header(type: 3, dim: 4, count: 1)),
        ("unknown metric", Encode.header(metric: 4, dim: 4, count: 1)),
        ("vectors without a type", Encode.header(type: 0, dim: 4, count: 1)),
        ("truncated", Array(Encode.header(dim: 4, count: 1).prefix(31))),
    ])
    func rejects(_ what: String, _ bytes: [UInt8]) {
        let e = annError { _ = try StreamHeader.decode(bytes, source: "in.annv") }
        guard case .badData(let source, let message)? = e else {
            Issue.record("\(what): expected bad data, got \(String(describing: e))")
            return
        }
        #expect(source == "in.annv")
        #expect(!message.isEmpty)
        #expect(e?.exitCode == 65)
    }

    /// Version 2: bytes 24..<28 are the CRC-32C of bytes 0..<24, bytes 28..<32 are zero.
    @Test func checksumCoversTheFirst24Bytes() {
        let b = StreamHeader(kind: .index, elementType: .uint8, metric: .ip, dim: 96, aux: 1024, count: 1_000_000).encoded()
        #expect(b[4] == 2 && b[5] == 0)
        #expect(Array(b[24..<28]) == Encode.le(Checksum.crc32c(Array(b[0..<24]))))
        #expect(b[28..<32].allSatisfy { $0 == 0 })
    }

    /// Every single-bit change anywhere in a header is refused, for every kind: nothing that
    /// decides decoding escapes the checksum (the magic and version are checked before it, the
    /// reserved bytes after).
    @Test(arguments: StreamKind.allCases)
    func everyBitFlipIsRefused(_ kind: StreamKind) {
        let good = StreamHeader(kind: kind, elementType: kind == .vectors ? .float32 : nil, metric: .l2, dim: 128, aux: 16, count: 5000).encoded()
        #expect((try? StreamHeader.decode(good, source: "t")) != nil)
        for byte in 0..<StreamHeader.size {
            for bit in 0..<8 {
                var b = good
                b[byte] ^= 1 << bit
                let e = annError { _ = try StreamHeader.decode(b, source: "t") }
                #expect(e?.exitCode == 65, "\(kind) byte \(byte) bit \(bit): accepted")
            }
        }
    }

    /// A field changed with its checksum left alone names the damage.
    @Test(arguments: [8, 12, 16, 19, 23])
    func changedFieldIsAChecksumMismatch(_ at: Int) {
        var b = StreamHeader(kind: .model, elementType: .float32, metric: .l2, dim: 128, aux: 16, count: 5000).encoded()
        b[at] ^= 0x40
        let e = annError { _ = try StreamHeader.decode(b, source: "m.annm") }
        #expect(e?.description == "m.annm: header checksum mismatch: the header is damaged", "\(String(describing: e))")
    }

    @Test(arguments: StreamKind.allCases)
    func versionOneIsRefusedInOneLine(_ kind: StreamKind) {
        var b = StreamHeader(kind: kind, elementType: .float32, metric: .l2, dim: 4, count: 1).encoded()
        b[4] = 1
        let e = annError { _ = try StreamHeader.decode(b, source: "old") }
        #expect(e?.exitCode == 65)
        #expect(e?.description == "old: format version 1 of \(kind.noun) has no header checksum and is no longer read; regenerate it with this version",
                "\(String(describing: e))")
    }

    @Test func namesTheKindFromItsMagic() {
        for kind in StreamKind.allCases {
            #expect(StreamKind(magic: kind.magic + [0, 0]) == kind)
        }
        #expect(StreamKind(magic: Array("ANN".utf8)) == nil)
    }
}
