import ANNKit
import Testing

/// Every record is checked: what is not well-formed vectors is bad data (exit status 65),
/// with a message that names the input.
@Suite struct VectorReaderValidationTests {
    static let good = Encode.fvecs((0..<(10 * 4)).map { Float($0) }, dim: 4)

    func refuse(_ bytes: [UInt8], name: String, mentioning word: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/\(name)"
            try writeBytes(bytes, to: path)
            let e = annError({ _ = try VectorReader(path: path).readAll() }, sourceLocation: sourceLocation)
            guard case .badData(let source, let message)? = e else {
                Issue.record("expected bad data, got \(String(describing: e))", sourceLocation: sourceLocation)
                return
            }
            #expect(source == path, sourceLocation: sourceLocation)
            #expect(message.contains(word), "\(message)", sourceLocation: sourceLocation)
        }
    }

    @Test func truncatedRecord() throws {
        try refuse(Array(Self.good.dropLast(3)), name: "a.fvecs", mentioning: "truncated")
        try refuse(Array(Self.good.dropLast(18)), name: "a.fvecs", mentioning: "truncated")
    }

    @Test func recordOfAnotherDimension() throws {
        var b = Self.good
        b[3 * 20] = 5  // record 3's dimension field
        try refuse(b, name: "a.fvecs", mentioning: "dimension 5 does not match 4")
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteValue(_ v: Float) throws {
        var values = (0..<(10 * 4)).map { Float($0) }
        values[17] = v
        try refuse(Encode.fvecs(values, dim: 4), name: "a.fvecs", mentioning: "record 4: value 1")
        try refuse(Encode.fbin(values, dim: 4), name: "a.fbin", mentioning: v.isNaN ? "NaN" : "infinite")
        try refuse(Encode.header(dim: 4, count: 10) + Encode.floats(values), name: "a.annv", mentioning: "record 4")
    }

    @Test func emptyInputs() throws {
        try refuse([], name: "a.fvecs", mentioning: "empty")
        try refuse(Encode.fbin([], dim: 4), name: "a.fbin", mentioning: "empty")
        try refuse(Encode.header(dim: 4, count: 0), name: "a.annv", mentioning: "empty")
        try refuse(Encode.header(dim: 4, count: UInt64.max), name: "a.annv", mentioning: "empty")
    }

    @Test func binHeaderDisagreesWithSize() throws {
        let b = Encode.fbin((0..<40).map { Float($0) }, dim: 4)
        try refuse(Array(b.dropLast(16)), name: "a.fbin", mentioning: "truncated")
        try refuse(b + [0, 0, 0, 0], name: "a.fbin", mentioning: "trailing")
    }

    @Test func nativeCountDisagreesWithRecords() throws {
        let body = Encode.floats((0..<40).map { Float($0) })
        try refuse(Encode.header(dim: 4, count: 11) + body, name: "a.annv", mentioning: "truncated")
        try refuse(Encode.header(dim: 4, count: 9) + body, name: "a.annv", mentioning: "trailing")
        try refuse(Encode.header(dim: 4, count: UInt64.max) + body.dropLast(2), name: "a.annv", mentioning: "truncated")
    }

    @Test func otherKindsAreNotVectors() throws {
        try refuse(Encode.header(magic: "ANNN", type: 0, metric: 1, dim: 1, count: 1) + [0, 0, 0, 0, 0, 0, 0, 0],
                   name: "gt.annn", mentioning: "is a neighbour list, not vectors")
        try refuse(Encode.header(magic: "ANNA", type: 0, dim: 2, aux: 1, count: 1) + [UInt8](repeating: 0, count: 8),
                   name: "a.anna", mentioning: "is an assignment, not vectors")
        try refuse(Encode.fvecs([1, 2, 3, 4], dim: 4), name: "gt.ivecs", mentioning: "integers, not vectors")
        try refuse(Self.good, name: "unnamed", mentioning: "not an ann-tools stream")
    }

    @Test func foreignDimensionOutOfRange() throws {
        try refuse(Encode.le(Int32(0)) + Encode.floats([1]), name: "a.fvecs", mentioning: "dimension 0")
        try refuse(Encode.le(Int32(-3)) + Encode.floats([1]), name: "a.fvecs", mentioning: "dimension -3")
    }

    /// The form given with `from` overrides the name.
    @Test func fromOverridesTheName() throws {
        try withTemporaryDirectory { dir in
            try writeBytes(Self.good, to: "\(dir)/data.bin")
            let r = try VectorReader(path: "\(dir)/data.bin", from: .fvecs)
            #expect(try r.readAll() == (0..<40).map { Float($0) })
        }
    }
}
