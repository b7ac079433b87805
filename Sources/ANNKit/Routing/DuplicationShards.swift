/// Duplication run on slices of the training queries (ann-dup --shard, --merge): each slice
/// writes its marked pairs as a shard part (ann-formats(5), SHARD PARTS), and the merge ranks
/// them all together, so that the copies are exactly those of one process.
public enum DuplicationShards {
    public static let columns = ["query", "key", "cluster", "confidence", "margin"]

    /// What every part of one run shares: the index, the whole file's ground truth, the model
    /// (its body's checksum) and the held-out share.
    public static func identity(index: PackedIndex, truthChecksum: UInt32, model: UInt32, validation: Double) -> [[String]] {
        [["index", ShardPart.hex(index.fingerprint), ShardPart.hex(index.baseFingerprint), ShardPart.hex(index.framesChecksum)],
         ["truth", ShardPart.hex(truthChecksum)],
         ["model", ShardPart.hex(model)],
         ["validation", "\(validation)"]]
    }

    /// The part of slice `shard` of `total` queries.
    public static func part(_ marks: [Duplication.Mark], shard: Shard, total: Int, identity: [[String]]) -> ShardPart {
        ShardPart(kind: .duplication, shard: shard, total: total, identity: identity, columns: columns, rows: marks.map { m in
            ["\(m.query)", "\(m.key)", "\(m.cluster)", "\(m.confidence)", "\(m.margin)"]
        })
    }

    /// The marks of slices 0 to N−1 (`names` name them in errors) in query order, and the
    /// training pairs (queries) they were marked among; refuses parts of another run or of
    /// another index than `index`, and any number the index or the slice cannot hold.
    public static func merge(_ parts: [ShardPart], names: [String], index: PackedIndex) throws -> (marks: [Duplication.Mark], pairs: Int) {
        try ShardPart.checkSequence(parts, names: names, kind: .duplication, columns: columns)
        func bad(_ i: Int, _ m: String) -> ANNError { .badData(source: names[i], message: m) }
        guard parts[0].field("index") == [ShardPart.hex(index.fingerprint), ShardPart.hex(index.baseFingerprint), ShardPart.hex(index.framesChecksum)] else {
            throw bad(0, "marked for another index than \(index.name) (another clustering, base or membership)")
        }
        var marks = [Duplication.Mark]()
        for (i, p) in parts.enumerated() {
            var last = p.records.lowerBound - 1
            for r in p.rows {
                guard let q = Int(r[0]), q > last, q < p.records.upperBound else {
                    throw bad(i, "query \(r[0]) is not after \(last) within the slice's \(p.records.lowerBound)..<\(p.records.upperBound)")
                }
                guard let key = UInt32(r[1]), Int(key) < index.baseCount else { throw bad(i, "query \(q): key \(r[1]) is not a base vector of \(index.name)") }
                guard let c = UInt32(r[2]), Int(c) < index.clusterCount else { throw bad(i, "query \(q): cluster \(r[2]) is not below \(index.clusterCount)") }
                guard let confidence = Float(r[3]), let margin = Float(r[4]) else { throw bad(i, "query \(q): unreadable scores") }
                marks.append(Duplication.Mark(query: q, key: key, cluster: c, confidence: confidence, margin: margin))
                last = q
            }
        }
        return (marks, parts[0].total)
    }
}
