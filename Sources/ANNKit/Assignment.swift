/// Which clusters hold each vector, as (vector, cluster) pairs sorted by vector, a vector's
/// home cluster first where it is known (ann-formats(5), ANNA). One derived from a packed
/// index (`init(index:)`) cannot know it and lists each vector's clusters in ascending order.
public struct Assignment: Sendable {
    public var clusterCount: Int
    public var vectors: [UInt32]
    public var clusters: [UInt32]

    public init(clusterCount: Int, vectors: [UInt32], clusters: [UInt32]) {
        self.clusterCount = clusterCount
        self.vectors = vectors
        self.clusters = clusters
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
        if let h = input.header {
            guard h.dim == 2 else { throw bad("assignment records of \(h.dim) values, expected 2") }
            k = Int(h.aux)
            var pair = (UInt32(0), UInt32(0))
            var r = 0
            while h.count == nil || r < h.count! {
                let n = try withUnsafeMutableBytes(of: &pair) { try input.reader.read(into: $0) }
                if n == 0 && h.count == nil { break }
                guard n == 8 else { throw bad("record \(r): truncated (\(n) of 8 bytes)") }
                vs.append(UInt32(littleEndian: pair.0))
                cs.append(UInt32(littleEndian: pair.1))
                r += 1
            }
            if !(try input.reader.atEnd()) { throw bad("trailing data after \(r) records") }
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
        return Assignment(clusterCount: k, vectors: vs, clusters: cs)
    }

    public func write(to output: OutputFile, format: FileFormat) throws {
        let w = try AssignmentWriter(output: output, format: format, clusterCount: clusterCount, pairCount: pairCount)
        for i in 0..<pairCount { try w.append(vector: Int(vectors[i]), cluster: Int(clusters[i])) }
        try w.finish()
    }
}
