/// A router model file (ann-formats(5), ANNM) read and checked: header, fixed fields, CRC-32C,
/// and the clustering it was trained for. Byte 17 of the fixed fields says which router the
/// float arrays describe, so one reader serves every kind.
public struct ModelFile {
    public enum Architecture: UInt8, Sendable {
        /// `RouterModel`: the 3-layer MLP (plain or residual over centroid routing).
        case mlp = 0
        /// `KernelRouter`: weighted points inside each cluster.
        case kernel = 1
    }

    static let fixedSize = 32

    public var path: String
    public var header: StreamHeader
    public var metric: Metric
    public var architecture: Architecture
    /// The fixed fields followed by the float arrays (checksum removed).
    var body: [UInt8]
    /// The index's centroids, which the file does not repeat.
    var centroids: [Float]

    /// Reads `path` and refuses a damaged model or one trained for another clustering than `index`.
    public init(path: String, for index: PackedIndex) throws {
        let input = try InputFile.open(path, from: .native)
        try input.expect(.model, foreign: [])
        let h = input.header!
        func bad(_ m: String) -> ANNError { .badData(source: path, message: m) }
        guard let metric = h.metric, let floats = h.count else { throw bad("model header lacks its metric or size") }
        guard floats < 1 << 32 else { throw bad("model header claims \(floats) weights") }
        var body = [UInt8](repeating: 0, count: Self.fixedSize + floats * 4 + 4)
        let n = try body.withUnsafeMutableBytes { try input.reader.read(into: $0) }
        guard n == body.count else { throw bad("truncated model (\(n) of \(body.count) bytes after the header)") }
        let stored: UInt32 = body.loadLE(at: body.count - 4)
        body.removeLast(4)
        guard Checksum.crc32c(body) == stored else { throw bad("checksum mismatch: the model is damaged") }
        guard let arch = Architecture(rawValue: body[17]) else { throw bad("unknown router architecture \(body[17])") }
        let fp: UInt64 = body.loadLE(at: 0)
        let d = h.dim, k = Int(h.aux)
        guard d == index.dim, k == index.clusterCount, metric == index.metric, fp == index.fingerprint else {
            throw bad("the model was trained for another clustering (\(d)-d, \(k) clusters, \(metric.rawValue), fingerprint \(String(fp, radix: 16))) than \(index.path) (\(index.dim)-d, \(index.clusterCount) clusters, \(index.metric.rawValue), fingerprint \(String(index.fingerprint, radix: 16)))")
        }
        self.path = path
        header = h
        self.metric = metric
        architecture = arch
        self.body = body
        centroids = index.centroids
    }

    public var dim: Int { header.dim }
    public var clusterCount: Int { Int(header.aux) }
    public var fingerprint: UInt64 { body.loadLE(at: 0) }
    var floatCount: Int { (body.count - Self.fixedSize) / 4 }

    func uint32(at offset: Int) -> Int { Int(body.loadLE(at: offset) as UInt32) }
    func byte(at offset: Int) -> UInt8 { body[offset] }
    func float(at offset: Int) -> Float { Float(bitPattern: body.loadLE(at: offset)) }

    func bad(_ m: String) -> ANNError { .badData(source: path, message: m) }

    /// Reads the float arrays of the given sizes, in order, from `offset` bytes into the
    /// arrays (0: right after the fixed fields).
    func arrays(_ counts: [Int], from start: Int = 0) -> [[Float]] {
        var offset = Self.fixedSize + start
        return counts.map { count in
            let v = body.withUnsafeBytes { b in
                [Float](unsafeUninitializedCapacity: count) { buf, n in
                    for i in 0..<count { buf[i] = Float(bitPattern: b.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self)) }
                    n = count
                }
            }
            offset += 4 * count
            return v
        }
    }

    /// `count` float16 values at the start of the arrays.
    func halfArray(_ count: Int) -> [Float16] {
        body.withUnsafeBytes { b in
            [Float16](unsafeUninitializedCapacity: count) { buf, n in
                for i in 0..<count {
                    buf[i] = Float16(bitPattern: UInt16(littleEndian: b.loadUnaligned(fromByteOffset: Self.fixedSize + 2 * i, as: UInt16.self)))
                }
                n = count
            }
        }
    }

    /// The router the file holds, whatever its kind.
    public func router() throws -> any ClusterRouter {
        switch architecture {
        case .mlp: return try RouterModel(file: self)
        case .kernel: return try KernelRouter(file: self)
        }
    }

    /// Writes a model: header, the 32 fixed bytes, the arrays, CRC-32C.
    /// `prefix` holds arrays of other types, a multiple of 4 bytes, written before `arrays`.
    static func write(to output: OutputFile, metric: Metric, dim: Int, clusterCount: Int, fixed: [UInt8], prefix: [UInt8] = [],
                      arrays: [[Float]]) throws {
        precondition(fixed.count == fixedSize && prefix.count % 4 == 0)
        var body = fixed + prefix
        for array in arrays { array.withUnsafeBytes { body.append(contentsOf: $0) } }
        let floats = (body.count - fixedSize) / 4
        try output.sink.write(StreamHeader(kind: .model, elementType: .float32, metric: metric, dim: dim, aux: UInt32(clusterCount), count: floats).encoded())
        try output.sink.write(body)
        try output.sink.write(value: Checksum.crc32c(body).littleEndian)
    }
}
