import ANNKit
import Foundation
import Testing

/// VectorWriter and VectorReader in every vector form, checked against layouts encoded by hand.
@Suite struct VectorIOTests {
    static let dim = 5
    static let count = 37
    /// Bytes for the uint8 forms; quarter steps, exact in float32, for the others.
    static let bytes: [UInt8] = (0..<(count * dim)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    static let floats: [Float] = (0..<(count * dim)).map { Float($0) * 0.25 - 7 }

    /// Writes with the library, promising the count up front or leaving it to be filled in.
    func write(_ path: String, format: FileFormat, type: ElementType, metric: Metric? = nil, knownCount: Bool) throws {
        let out = try OutputFile(path: path)
        let w = try VectorWriter(output: out, format: format, dim: Self.dim, elementType: type, metric: metric,
                                 count: knownCount ? Self.count : nil)
        if type == .float32 {
            // Two calls: the writer must append, not restart.
            try w.write(Array(Self.floats[0..<(10 * Self.dim)]))
            try w.write(Array(Self.floats[(10 * Self.dim)...]))
        } else {
            try Self.bytes.withUnsafeBytes { try w.write(raw: $0.baseAddress!, count: Self.count) }
        }
        #expect(w.written == Self.count)
        try w.finish()
        try out.commit()
    }

    struct Form: Sendable, CustomTestStringConvertible {
        var format: FileFormat
        var type: ElementType
        var name: String { "v.\(format == .native ? "annv" : format.rawValue)" }
        var testDescription: String { "\(format.rawValue) \(type.name)" }
    }

    static let forms = [
        Form(format: .native, type: .float32), Form(format: .native, type: .uint8), Form(format: .fvecs, type: .float32),
        Form(format: .bvecs, type: .uint8), Form(format: .fbin, type: .float32), Form(format: .u8bin, type: .uint8),
    ]

    @Test(arguments: forms, [true, false])
    func roundTrip(_ c: Form, knownCount: Bool) throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/\(c.name)"
            try write(path, format: c.format, type: c.type, metric: c.format == .native ? .ip : nil, knownCount: knownCount)
            let r = try VectorReader(path: path)
            #expect(r.dim == Self.dim)
            #expect(r.elementType == c.type)
            #expect(r.input.format == c.format)
            #expect(r.count == Self.count)
            #expect(r.metric == (c.format == .native ? .ip : nil))
            let expected = c.type == .float32 ? Self.floats : Self.bytes.map(Float.init)
            #expect(try r.readAll() == expected)
            #expect(r.recordsRead == Self.count)
        }
    }

    /// The bytes on disk are exactly the layouts of ann-formats(5).
    @Test(arguments: forms)
    func layoutOnDisk(_ c: Form) throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/\(c.name)"
            try write(path, format: c.format, type: c.type, knownCount: false)
            let expected: [UInt8]
            switch (c.format, c.type) {
            case (.native, .float32): expected = Encode.header(type: 1, dim: 5, count: 37) + Encode.floats(Self.floats)
            case (.native, _): expected = Encode.header(type: 2, dim: 5, count: 37) + Self.bytes
            case (.fvecs, _): expected = Encode.fvecs(Self.floats, dim: 5)
            case (.bvecs, _): expected = Encode.bvecs(Self.bytes, dim: 5)
            case (.fbin, _): expected = Encode.fbin(Self.floats, dim: 5)
            default: expected = Encode.u8bin(Self.bytes, dim: 5)
            }
            #expect(try readBytes(path) == expected)
        }
    }

    /// Files written by other tools (encoded here by hand) read back as written.
    @Test func readsHandEncodedFiles() throws {
        try withTemporaryDirectory { dir in
            try writeBytes(Encode.fvecs(Self.floats, dim: 5), to: "\(dir)/a.fvecs")
            try writeBytes(Encode.u8bin(Self.bytes, dim: 5), to: "\(dir)/a.u8bin")
            #expect(try VectorReader(path: "\(dir)/a.fvecs").readAll() == Self.floats)
            let r = try VectorReader(path: "\(dir)/a.u8bin")
            var raw = [UInt8](repeating: 0, count: Self.count * 5)
            let n = try raw.withUnsafeMutableBytes { try r.readRaw(into: $0.baseAddress!, maxCount: Self.count) }
            #expect(n == Self.count)
            #expect(raw == Self.bytes)
        }
    }

    /// Small blocks: records must come out whole and in order across many calls.
    @Test(arguments: [FileFormat.fvecs, .fbin, .native])
    func readsInBlocks(_ format: FileFormat) throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/v.\(format == .native ? "annv" : format.rawValue)"
            try write(path, format: format, type: .float32, knownCount: true)
            let r = try VectorReader(path: path)
            var all = [Float]()
            var buf = [Float](repeating: 0, count: 4 * Self.dim)
            while true {
                let n = try buf.withUnsafeMutableBufferPointer { try r.read(into: $0.baseAddress!, maxCount: 4) }
                if n == 0 { break }
                #expect(n <= 4)
                all += buf[0..<(n * Self.dim)]
            }
            #expect(all == Self.floats)
        }
    }

    @Test func refusesAFormThatDoesNotHoldTheType() throws {
        try withTemporaryDirectory { dir in
            let out = try OutputFile(path: "\(dir)/x.bvecs")
            defer { out.discard() }
            #expect(annError { _ = try VectorWriter(output: out, format: .bvecs, dim: 4, elementType: .float32, count: 1) }?.exitCode == 64)
            #expect(annError { _ = try VectorWriter(output: out, format: .ivecs, dim: 4, elementType: .float32, count: 1) }?.exitCode == 64)
        }
    }

    @Test func aDiscardedOutputLeavesNoFile() throws {
        try withTemporaryDirectory { dir in
            let out = try OutputFile(path: "\(dir)/x.fvecs")
            let w = try VectorWriter(output: out, format: .fvecs, dim: 5, elementType: .float32, count: nil)
            try w.write(Self.floats)
            out.discard()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
    }
}
