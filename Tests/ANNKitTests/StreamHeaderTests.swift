import ANNKit
import Testing

@Suite struct StreamHeaderTests {
    @Test func encodesTheLayoutOfAnnFormats5() {
        let h = StreamHeader(kind: .vectors, elementType: .float32, metric: .l2, dim: 128, count: 1024)
        // The worked example of ann-formats(5), READING A HEADER BY HAND.
        #expect(h.encoded() == Encode.header(type: 1, metric: 1, dim: 128, count: 1024))
        #expect(h.encoded().count == StreamHeader.size)
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
        ("unknown version", Encode.header(version: 2, dim: 4, count: 1)),
        ("version zero", Encode.header(version: 0, dim: 4, count: 1)),
        ("nonzero reserved", Encode.header(dim: 4, count: 1, reserved: 1)),
        ("nonzero reserved high byte", Encode.header(dim: 4, count: 1, reserved: 1 << 56)),
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

    @Test func namesTheKindFromItsMagic() {
        for kind in StreamKind.allCases {
            #expect(StreamKind(magic: kind.magic + [0, 0]) == kind)
        }
        #expect(StreamKind(magic: Array("ANN".utf8)) == nil)
    }
}
