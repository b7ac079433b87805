/// Which clusters hold each vector, as (vector, cluster) pairs sorted by vector, a vector's
/// home cluster first where it is known (ann-formats(5), ANNA). One derived from a packed
/// index (`init(index:)`) cannot know it and lists each vector's clusters in ascending order.
public struct Assignment: Sendable {
    public var clusterCount: Int
    public var vectors: [UInt32]
    public var clusters: [UInt32]
    /// The clustering and base a native assignment was made for; nil for the foreign forms,
    /// which cannot record them.
    public var identity: AssignmentIdentity?

    public init(clusterCount: Int, vectors: [UInt32], clusters: [UInt32], identity: AssignmentIdentity? = nil) {
        self.clusterCount = clusterCount
        self.vectors = vectors
        self.clusters = clusters
        self.identity = identity
    }

    public var pairCount: Int { vectors.count }

    /// Reads a native assignment, an .ivecs with a record per vector, or an .ibin of pairs.
    /// A foreign file does not record K: `clusterCount` gives it (else one more than the
    /// largest cluster named); a native one must agree with it.
    public static func load(_ path: String?, from: FileFormat? = nil, clusterCount: Int? = nil) throws -> Assignment {
        let input = try InputFile.open(path, from: from)
        try input.expect(.assignment, foreign: [.ivecs, .ibin])
        var vs = [UInt32]()
        var cs = [UInt32]()
        func bad(_ m: String) -> ANNError { .badData(source: input.name, message: m) }
        var k = 0
        var identity: AssignmentIdentity?
        if let h = input.header {
            guard h.dim == 2 else { throw bad("assignment records of \(h.dim) values, expected 2") }
            k = Int(h.aux)
            // Read whole, growing as bytes arrive: the header's count sizes nothing.
            var raw = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try input.reader.read(into: $0) }
                if n == 0 { break }
                raw.append(contentsOf: chunk[0..<n])
            }
            let footerSize = AssignmentIdentity.footerSize
            let recordBytes: Int
            if let c = h.count {
                let (want, overflow) = c.multipliedReportingOverflow(by: 8)
                guard !overflow, raw.count >= want + footerSize else {
                    throw bad("truncated assignment: the header counts \(c) records, \(max(0, raw.count - footerSize) / 8) found")
                }
                guard raw.count == want + footerSize else { throw bad("trailing data after \(c) records") }
                recordBytes = want
            } else {
                guard raw.count >= footerSize, (raw.count - footerSize) % 8 == 0 else {
                    throw bad("truncated assignment: \(raw.count) bytes after the header are not whole records and a footer")
                }
                recordBytes = raw.count - footerSize
            }
            let (id, recordsCRC) = try AssignmentIdentity.decode(footer: Array(raw[recordBytes...]), source: input.name)
            let crc = raw.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<recordBytes])) }
            guard crc == recordsCRC else { throw bad("records checksum mismatch: the assignment is damaged") }
            identity = id
            let pairs = recordBytes / 8
            vs.reserveCapacity(pairs)
            cs.reserveCapacity(pairs)
            raw.withUnsafeBytes { b in
                for r in 0..<pairs {
                    vs.append(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 8 * r, as: UInt32.self)))
                    cs.append(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 8 * r + 4, as: UInt32.self)))
                }
            }
        } else if input.format == .ibin {
            let recs = try IntegerRecords.read(input)
            guard recs.dim == 2 else { throw bad(".ibin assignment must hold (vector, cluster) pairs, found dimension \(recs.dim)") }
            for i in stride(from: 0, to: recs.values.count, by: 2) {
                vs.append(UInt32(bitPattern: recs.values[i]))
                cs.append(UInt32(bitPattern: recs.values[i + 1]))
            }
        } else {
            // TEXMEX records may differ in length here: one record per vector.
            var v: UInt32 = 0
            while true {
                let (d, partial) = try input.reader.readLE(Int32.self)
                guard let d else {
                    if partial == 0 { break }
                    throw bad("record \(v): truncated")
                }
                guard d >= 0 && d <= 1 << 16 else { throw bad("record \(v): \(d) is not a cluster count") }
                for _ in 0..<d {
                    let (c, _) = try input.reader.readLE(Int32.self)
                    guard let c else { throw bad("record \(v): truncated") }
                    vs.append(v)
                    cs.append(UInt32(bitPattern: c))
                }
                v += 1
            }
        }
        if vs.isEmpty { throw bad("empty input") }
        if let expected = clusterCount {
            if k != 0 && k != expected { throw bad("assignment is for \(k) clusters, not \(expected)") }
            k = expected
        }
        if k == 0 { k = Int(cs.max()!) + 1 }
        for i in 0..<vs.count {
            if Int(cs[i]) >= k { throw bad("record \(i): cluster \(cs[i]) is not below K = \(k)") }
            if i > 0 && vs[i] < vs[i - 1] { throw bad("record \(i): vectors are not in ascending order") }
        }
        if let id = identity, let last = vs.last, Int(last) >= id.baseCount {
            throw bad("assigns vector \(last), but was made for a base of \(id.baseCount) vectors")
        }
        return Assignment(clusterCount: k, vectors: vs, clusters: cs, identity: identity)
    }

    /// Writes the pairs; `identity` (the clustering and base they were made for) goes into the
    /// native form's footer.
    public func write(to output: OutputFile, format: FileFormat, identity: AssignmentIdentity) throws {
        let w = try AssignmentWriter(output: output, format: format, clusterCount: clusterCount, pairCount: pairCount)
        for i in 0..<pairCount { try w.append(vector: Int(vectors[i]), cluster: Int(clusters[i])) }
        try w.finish(identity: identity)
    }
}
