import ANNKit
import Foundation

/// The package root, found from this file; the bundled data and the man pages live under it.
public enum Package {
    public static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    public static let data = "\(root)/examples/data"
}

/// The bundled real data (examples/data), decompressed and parsed once per test process by
/// `Zstd.Decoder` straight over the file and a TEXMEX reader written here: tests of other
/// behaviour then depend neither on the tools' own .zst detection nor on their readers.
public enum SampleData {
    public struct Vectors: Sendable {
        public var dim: Int
        public var values: [Float]
        public var count: Int { values.count / dim }
        public func row(_ i: Int) -> ArraySlice<Float> { values[(i * dim)..<((i + 1) * dim)] }
    }

    public static func path(_ name: String) -> String { "\(Package.data)/\(name)" }

    /// The bytes of the bundled `name` + ".zst", e.g. "siftsmall_base.fvecs".
    public static func bytes(_ name: String) throws -> [UInt8] { try cache.bytes(name) }

    /// A bundled TEXMEX .fvecs or .bvecs file (`name` without ".zst"), as float32.
    public static func vectors(_ name: String) throws -> Vectors { try cache.vectors(name) }

    /// siftsmall: 10,000 base vectors of dimension 128 with small integer values.
    public static func siftBase() throws -> Vectors { try vectors("siftsmall_base.fvecs") }
    /// siftsmall: 100 queries.
    public static func siftQueries() throws -> Vectors { try vectors("siftsmall_query.fvecs") }
    /// 10,000 uint8 SIFT vectors from another collection (BIGANN): training queries for siftsmall.
    public static func bigannBase() throws -> Vectors { try vectors("bigann10k_base.bvecs") }

    /// TEXMEX records (a little-endian Int32 dimension, then its values) as float32; `uint8`
    /// for .bvecs, whose values are bytes.
    public static func parseTexmex(_ b: [UInt8], uint8: Bool) -> Vectors {
        let dim = Int(b.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) })
        let record = 4 + dim * (uint8 ? 1 : 4)
        var values = [Float]()
        values.reserveCapacity(b.count / record * dim)
        b.withUnsafeBytes { raw in
            for r in 0..<(b.count / record) {
                let at = r * record + 4
                for j in 0..<dim {
                    values.append(uint8 ? Float(raw[at + j])
                                        : Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4 * j, as: UInt32.self))))
                }
            }
        }
        return Vectors(dim: dim, values: values)
    }

    private static let cache = Cache()

    private final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var files: [String: [UInt8]] = [:]
        private var parsed: [String: Vectors] = [:]

        func bytes(_ name: String) throws -> [UInt8] {
            lock.lock()
            defer { lock.unlock() }
            return try unlockedBytes(name)
        }

        func vectors(_ name: String) throws -> Vectors {
            lock.lock()
            defer { lock.unlock() }
            if let v = parsed[name] { return v }
            let v = parseTexmex(try unlockedBytes(name), uint8: name.hasSuffix(".bvecs"))
            parsed[name] = v
            return v
        }

        private func unlockedBytes(_ name: String) throws -> [UInt8] {
            if let b = files[name] { return b }
            let decoder = try Zstd.Decoder(try FileByteSource(path: SampleData.path("\(name).zst")))
            var out = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = try buf.withUnsafeMutableBytes { try decoder.read(into: $0) }
                if n == 0 { break }
                out.append(contentsOf: buf[0..<n])
            }
            files[name] = out
            return out
        }
    }
}

/// Exact squared distance of two vectors, summed in double precision (exact for SIFT's small
/// integers in any order).
public func squaredDistance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var s = 0.0
    for (x, y) in zip(a, b) { s += Double(x - y) * Double(x - y) }
    return s
}

extension Array where Element == Float {
    /// Row `i` of row-major vectors of dimension `dim`.
    public func row(_ i: Int, _ dim: Int) -> ArraySlice<Float> { self[(i * dim)..<((i + 1) * dim)] }
}

/// Writes float32 vectors as a native stream with the library's writer.
public func writeNativeVectors(_ values: [Float], dim: Int, to path: String, metric: Metric? = nil) throws {
    let out = try OutputFile(path: path)
    let w = try VectorWriter(output: out, format: .native, dim: dim, elementType: .float32, metric: metric, count: values.count / dim)
    try w.write(values)
    try w.finish()
    try out.commit()
}
