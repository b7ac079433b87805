/// A router model file (ann-formats(5), ANNM) read and checked: header, fixed fields, CRC-32C,
/// and the clustering it was trained for. Byte 17 of the fixed fields says which router the
/// float arrays describe, so one reader serves every kind; `ModelReader.swift` decodes each
/// kind from it, `ModelWriter` writes them.
public struct ModelFile {
    public enum Architecture: UInt8, Sendable {
        /// `RouterModel`: the 3-layer MLP (plain or residual over centroid routing).
        case mlp = 0
        /// `KernelRouter`: weighted points inside each cluster.
        case kernel = 1
        /// `PQRouter`: product-quantised codes of the vectors nearest a cluster boundary.
        case pq = 2
    }

    public var path: String
    public var header: StreamHeader
    public var metric: Metric
    public var architecture: Architecture
    /// The fixed fields followed by the float arrays (checksum removed).
    var body: [UInt8]
    /// The index's centroids, which the file does not repeat.
    var centroids: [Float]
    /// The index the model was read for (a PQ router's codes must follow its clusters).
    let index: PackedIndex
    /// The body's CRC-32C as stored and verified: which model this is, for a shard part.
    public let checksum: UInt32
    /// The memory the router holds while routing, as the model records it (fixed bytes 24–31).
    public var footprint: Int { Int(truncatingIfNeeded: body.loadLE(at: 24) as UInt64) }

    /// Reads `path` and refuses a damaged model or one trained for another clustering than `index`.
    ///
    /// Nothing is allocated from the header's word count until it is bounded: by the file's size
    /// for a regular file, by the words the architecture implies for the index's dimension and
    /// cluster count, and, for a pipe or compressed input, by the bytes that actually arrive.
    public init(path: String, for index: PackedIndex) throws {
        let input = try InputFile.open(path, from: .native)
        try input.expect(.model, foreign: [])
        let h = input.header!
        func bad(_ m: String) -> ANNError { .badData(source: path, message: m) }
        guard let metric = h.metric, let words = h.count else { throw bad("model header lacks its metric or size") }
        guard words < 1 << 32 else { throw bad("model header claims \(words) weights") }
        let d = h.dim, k = Int(h.aux)
        guard d == index.dim, k == index.clusterCount, metric == index.metric else {
            throw bad("the model was trained for another clustering (\(d)-d, \(k) clusters, \(metric.rawValue)) than \(index.name) (\(index.dim)-d, \(index.clusterCount) clusters, \(index.metric.rawValue))")
        }
        let bodySize = ModelLayout.fixedSize + 4 * words + 4
        if let fileSize = input.byteSize, fileSize != StreamHeader.size + bodySize {
            let claim = "the header claims \(words) weights (\(StreamHeader.size + bodySize) bytes), the file holds \(fileSize) bytes"
            throw bad(fileSize < StreamHeader.size + bodySize ? "truncated model: \(claim)" : "trailing data after the model: \(claim)")
        }
        var fixed = [UInt8](repeating: 0, count: ModelLayout.fixedSize)
        let nf = try fixed.withUnsafeMutableBytes { try input.reader.read(into: $0) }
        guard nf == ModelLayout.fixedSize else { throw bad("truncated model (\(nf) of \(bodySize) bytes after the header)") }
        // The fixed fields are not yet verified; they only bound what is read, and a damaged one
        // is refused either here or by the checksum below.
        guard let arch = Architecture(rawValue: fixed[17]) else { throw bad("unknown router architecture \(fixed[17])") }
        // Reserved today, meaningful to a later version: a reader that ignored them could
        // misread such a model, so they must be zero.
        guard arch == .pq || fixed[18..<20].allSatisfy({ $0 == 0 }) else {
            throw bad("reserved model bytes are not zero")
        }
        guard fixed[24..<32].contains(where: { $0 != 0 }) else {
            throw bad("the model records no memory footprint (written by ann-tools 0.2 or earlier): train it again")
        }
        let entries = index.entries.reduce(0) { $0 + $1.vectors }
        let implied = try Self.wordCount(arch, fixed: fixed, dim: d, clusterCount: k, entries: entries, source: path)
        guard arch != .pq || implied == words else {
            throw bad("the model's codes are not for the \(entries) vectors stored in \(index.name): it was trained for another index (train it again after ann-dup or a repack), or it is damaged")
        }
        guard implied == words else {
            throw bad("the header claims \(words) weights, the \(arch) router's fields imply \(implied): truncated or damaged model")
        }
        var body = fixed
        // A regular file's size was checked against the claim above: the whole body may be
        // reserved at once, so that it is never copied while it grows.
        if input.byteSize != nil { body.reserveCapacity(bodySize) }
        try Self.readBody(input.reader, into: &body, total: bodySize, source: path)
        guard try input.reader.atEnd() else { throw bad("trailing data after the model's \(bodySize) bytes") }
        let stored: UInt32 = body.loadLE(at: body.count - 4)
        body.removeLast(4)
        guard Checksum.crc32c(body) == stored else { throw bad("checksum mismatch: the model is damaged") }
        let fp: UInt64 = body.loadLE(at: 0)
        guard fp == index.fingerprint else {
            throw bad("the model was trained for another clustering (\(d)-d, \(k) clusters, \(metric.rawValue), fingerprint \(String(fp, radix: 16))) than \(index.name) (\(index.dim)-d, \(index.clusterCount) clusters, \(index.metric.rawValue), fingerprint \(String(index.fingerprint, radix: 16)))")
        }
        self.path = path
        checksum = stored
        header = h
        self.metric = metric
        architecture = arch
        self.body = body
        centroids = index.centroids
        self.index = index
    }

    /// Reads until `body` holds `total` bytes, growing it a chunk at a time as data arrives, so
    /// that a claimed size no input backs is never allocated.
    static func readBody(_ reader: BufferedReader, into body: inout [UInt8], total: Int, source: String) throws {
        let chunk = 1 << 20
        while body.count < total {
            let have = body.count
            let want = min(chunk, total - have)
            body.append(contentsOf: repeatElement(0, count: want))
            let n = try body.withUnsafeMutableBytes { try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[have...])) }
            guard n == want else {
                throw ANNError.badData(source: source, message: "truncated model (\(have + n) of \(total) bytes after the header)")
            }
        }
    }

    public var dim: Int { header.dim }
    public var clusterCount: Int { Int(header.aux) }
    public var fingerprint: UInt64 { body.loadLE(at: 0) }
    var floatCount: Int { (body.count - ModelLayout.fixedSize) / 4 }

    func uint32(at offset: Int) -> Int { Int(body.loadLE(at: offset) as UInt32) }
    func byte(at offset: Int) -> UInt8 { body[offset] }
    func float(at offset: Int) -> Float { Float(bitPattern: body.loadLE(at: offset)) }

    func bad(_ m: String) -> ANNError { .badData(source: path, message: m) }

    /// Reads the float arrays of the given sizes, in order, from `offset` bytes into the
    /// arrays (0: right after the fixed fields).
    func arrays(_ counts: [Int], from start: Int = 0) -> [[Float]] {
        var offset = ModelLayout.fixedSize + start
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
                    buf[i] = Float16(bitPattern: UInt16(littleEndian: b.loadUnaligned(fromByteOffset: ModelLayout.fixedSize + 2 * i, as: UInt16.self)))
                }
                n = count
            }
        }
    }

    /// Refuses a router whose footprint is not the one the file records; every kind's reader
    /// calls it last.
    func checkFootprint(_ computed: Int) throws {
        guard computed == footprint else {
            throw bad("the model records a memory footprint of \(footprint) bytes, its contents take \(computed): the model is damaged")
        }
    }
}
