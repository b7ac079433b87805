/// A sweep run on slices of a query file (ann-eval sweep --shard, --merge): each slice writes
/// its tallies as a shard part (ann-formats(5), SHARD PARTS), and the merge adds them up into
/// the whole file's curve, exactly the one-process figures but for the time.
public enum SweepShards {
    public static let columns = ["setting", "hits1", "hits10", "vectors", "bytes", "clusters", "micros"]

    /// What a merge needs besides the tallies, read back from the parts.
    public struct Run: Sendable {
        public var label: String
        public var queries: Int
        public var vectorCount: Int
        public var clusterCount: Int
        public var baseCount: Int
        /// The bytes the router holds.
        public var routerFootprint: Int
        /// Neighbours per query in the ground truth.
        public var truthK: Int
        public var tallies: [RecallTally]
    }

    /// What every part of one run shares: the index, the ground truth of the whole file, the
    /// router (`model`: the model body's checksum, nil for centroid routing), k and the label.
    public static func identity(index: PackedIndex, truth: NeighborList, model: UInt32?, routerFootprint: Int, k: Int, label: String) -> [[String]] {
        [["index", ShardPart.hex(index.fingerprint), ShardPart.hex(index.baseFingerprint), ShardPart.hex(index.framesChecksum), "\(index.baseCount)", "\(index.vectorCount)", "\(index.clusterCount)"],
         ["truth", ShardPart.hex(truth.checksum), "\(truth.k)"],
         ["routing"] + (model.map { ["model", ShardPart.hex($0)] } ?? ["centroids"]),
         ["router-memory", "\(routerFootprint)"],
         ["k", "\(k)"],
         ["label", label]]
    }

    /// The part of slice `shard` of `total` queries.
    public static func part(_ tallies: [RecallTally], shard: Shard, total: Int, identity: [[String]]) -> ShardPart {
        ShardPart(kind: .sweep, shard: shard, total: total, identity: identity, columns: columns, rows: tallies.map { t in
            [t.setting, "\(t.hits1)", t.hits10.map { "\($0)" } ?? RecallCurve.notAvailable, "\(t.vectors)", "\(t.bytes)", "\(t.clusters)", "\(t.micros)"]
        })
    }

    /// Adds up the parts of slices 0 to N−1 (`names` name them in errors), refusing parts
    /// of different runs, settings or files, and counts a slice's queries cannot hold.
    public static func merge(_ parts: [ShardPart], names: [String]) throws -> Run {
        try ShardPart.checkSequence(parts, names: names, kind: .sweep, columns: columns)
        func bad(_ i: Int, _ m: String) -> ANNError { .badData(source: names[i], message: m) }
        let p0 = parts[0]
        guard let index = p0.field("index"), index.count == 6, let baseCount = Int(index[3]), let vectors = Int(index[4]),
              let clusters = Int(index[5]), let truth = p0.field("truth"), truth.count == 2, let truthK = Int(truth[1]),
              let memory = p0.field("router-memory")?.first.flatMap({ Int($0) }), let label = p0.field("label"), label.count == 1,
              p0.field("routing") != nil, p0.field("k") != nil
        else { throw bad(0, "a sweep part without its index, truth, routing, router-memory, k and label fields") }
        var sum = [RecallTally]()
        for (i, p) in parts.enumerated() {
            let n = p.records.count
            let tallies = try p.rows.map { r -> RecallTally in
                // Each count is bounded by what n queries can fetch or hit, so sums cannot overflow.
                func count(_ s: String, most: Int) throws -> Int {
                    guard let v = Int(s), v >= 0, v <= most else { throw bad(i, "setting \(r[0]): \(s) is not a count for \(n) queries") }
                    return v
                }
                let at10 = r[2] == RecallCurve.notAvailable ? nil : try count(r[2], most: n * Recall.neighboursForAt10)
                guard (at10 == nil) == (truthK < Recall.neighboursForAt10) else { throw bad(i, "setting \(r[0]): hits10 does not fit the ground truth's \(truthK) neighbours") }
                return RecallTally(setting: r[0], queries: n, hits1: try count(r[1], most: n), hits10: at10,
                                   vectors: try count(r[3], most: n << 40), bytes: try count(r[4], most: n << 40),
                                   clusters: try count(r[5], most: n * max(1, clusters)), micros: try count(r[6], most: 1 << 50))
            }
            if i == 0 {
                guard !tallies.isEmpty else { throw bad(i, "a sweep part with no settings") }
                sum = tallies
            } else {
                guard tallies.map(\.setting) == sum.map(\.setting) else { throw bad(i, "its settings differ from part 1's") }
                sum = zip(sum, tallies).map { $0 + $1 }
            }
        }
        return Run(label: label[0], queries: p0.total, vectorCount: vectors, clusterCount: clusters, baseCount: baseCount,
                   routerFootprint: memory, truthK: truthK, tallies: sum)
    }
}
