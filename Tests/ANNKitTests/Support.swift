import ANNKit
import Foundation
import Testing

/// Runs `body` in a fresh directory that is removed afterwards: tests run in parallel, so
/// each needs its own.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ann-kit-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Little-endian encoders written from ann-formats(5), independent of the library's writers,
/// so that a round trip cannot hide a mistake made the same way in both directions.
enum Encode {
    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    static func floats(_ v: some Sequence<Float>) -> [UInt8] { v.flatMap { le($0.bitPattern) } }

    /// A version 2 header: the CRC-32C of bytes 0..<24 at 24 (`crc` replaces it), `reserved` at 28.
    static func header(magic: String = "ANNV", version: UInt16 = 2, type: UInt8 = 1, metric: UInt8 = 0,
                       dim: UInt32, aux: UInt32 = 0, count: UInt64, crc: UInt32? = nil, reserved: UInt32 = 0) -> [UInt8] {
        let fields = Array(magic.utf8) + le(version) + [type, metric] + le(dim) + le(aux) + le(count)
        return fields + le(crc ?? Checksum.crc32c(fields)) + le(reserved)
    }

    /// `bytes` with the header CRC (bytes 24..<28) recomputed, as a writer that patched a field would.
    static func resealedHeader(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        b.replaceSubrange(24..<28, with: le(Checksum.crc32c(Array(b[0..<24]))))
        return b
    }

    /// The footer of a native assignment over `records` (ann-formats(5), ANNA).
    static func assignmentFooter(records: [UInt8], clustering: UInt64 = 1, base: UInt64 = 2, baseCount: UInt32) -> [UInt8] {
        let f = Array("ANNF".utf8) + le(Checksum.crc32c(records)) + le(clustering) + le(base) + le(baseCount)
        return f + le(Checksum.crc32c(f))
    }

    static func fvecs(_ v: [Float], dim: Int) -> [UInt8] {
        stride(from: 0, to: v.count, by: dim).flatMap { le(Int32(dim)) + floats(v[$0..<($0 + dim)]) }
    }

    static func bvecs(_ v: [UInt8], dim: Int) -> [UInt8] {
        stride(from: 0, to: v.count, by: dim).flatMap { le(Int32(dim)) + v[$0..<($0 + dim)] }
    }

    static func fbin(_ v: [Float], dim: Int) -> [UInt8] {
        le(UInt32(v.count / dim)) + le(UInt32(dim)) + floats(v)
    }

    static func u8bin(_ v: [UInt8], dim: Int) -> [UInt8] {
        le(UInt32(v.count / dim)) + le(UInt32(dim)) + v
    }
}

/// The bundled real data (examples/data), decompressed once per test process.
enum SampleData {
    struct Vectors: Sendable {
        var dim: Int
        var values: [Float]
        var count: Int { values.count / dim }
        func row(_ i: Int) -> ArraySlice<Float> { values[(i * dim)..<((i + 1) * dim)] }
    }

    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/data").path

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// The bytes of a bundled `.zst` file, decompressed by `Zstd.Decoder` straight over the
    /// file, so that tests of other features do not depend on `InputFile`'s zstd detection.
    static func decompressed(_ name: String) throws -> [UInt8] {
        let decoder = try Zstd.Decoder(try FileByteSource(path: path(name)))
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buf.withUnsafeMutableBytes { try decoder.read(into: $0) }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    /// A TEXMEX .fvecs file parsed by hand.
    static func parseFvecs(_ b: [UInt8]) -> Vectors {
        let dim = Int(b.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) })
        let record = 4 + 4 * dim
        var values = [Float]()
        values.reserveCapacity(b.count / record * dim)
        b.withUnsafeBytes { raw in
            for r in 0..<(b.count / record) {
                for j in 0..<dim {
                    values.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: r * record + 4 + 4 * j, as: UInt32.self))))
                }
            }
        }
        return Vectors(dim: dim, values: values)
    }

    private static let base = Result { parseFvecs(try decompressed("siftsmall_base.fvecs.zst")) }
    private static let queries = Result { parseFvecs(try decompressed("siftsmall_query.fvecs.zst")) }

    /// siftsmall: 10,000 base vectors of dimension 128 with small integer values.
    static func siftBase() throws -> Vectors { try base.get() }
    /// siftsmall: 100 queries.
    static func siftQueries() throws -> Vectors { try queries.get() }
}

/// Writes float32 vectors as a native stream with the library's writer.
func writeNativeVectors(_ values: [Float], dim: Int, to path: String, metric: Metric? = nil) throws {
    let out = try OutputFile(path: path)
    let w = try VectorWriter(output: out, format: .native, dim: dim, elementType: .float32, metric: metric, count: values.count / dim)
    try w.write(values)
    try w.finish()
    try out.commit()
}

/// The error `body` throws, as an `ANNError`; records an issue when it throws nothing or something else.
func annError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ANNError? {
    #expect(throws: ANNError.self, sourceLocation: sourceLocation) { try body() }
}
