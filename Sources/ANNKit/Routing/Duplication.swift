/// The paper's duplication step: training pairs (query, key) whose top-1 predicted cluster
/// does not hold the key are marked, ranked, and the keys of the top share are copied into
/// the predicted cluster, so that the router's favourite answer becomes a right one.
public enum Duplication {
    public enum Ranking: String, CaseIterable, Sendable {
        /// Most confident wrong predictions first (softmax probability of the predicted cluster).
        case confidence
        /// Smallest gap first: wrong predictions that nearly chose a right cluster.
        case margin
        /// Uniformly at random (seeded), as a control.
        case random
    }

    public struct Report: Sendable {
        public var pairs = 0
        public var marked = 0
        public var copies = 0
        public var sizesBefore: [Int] = []
        public var sizesAfter: [Int] = []
    }

    /// Returns the assignment with the copies added: still sorted by vector, each vector's
    /// clusters in `assignment`'s order with its copies after them.
    /// Examples for which `skip` is true (the queries ann-train holds out) are never marked,
    /// so that validation stays blind to duplication.
    public static func run(model: any ClusterRouter, examples ex: RouterExamples, keys: [UInt32], assignment: Assignment,
                           fraction: Double, ranking: Ranking, seed: UInt64, skip: (Int) -> Bool = { _ in false }) -> (Assignment, Report) {
        var report = Report()
        report.pairs = ex.count
        let k = model.clusterCount
        var marked = [(score: Float, query: Int, cluster: UInt32)]()
        let block = 1024
        var logits = [Float](repeating: 0, count: block * k)
        var i0 = 0
        while i0 < ex.count {
            let b = min(block, ex.count - i0)
            ex.queries.withUnsafeBufferPointer { q in
                logits.withUnsafeMutableBufferPointer { model.score(queries: q.baseAddress! + i0 * ex.dim, n: b, dim: ex.dim, into: $0.baseAddress!) }
            }
            // Scores are −logits.
            for i in 0..<(b * k) { logits[i] = -logits[i] }
            logits.withUnsafeMutableBufferPointer { z in
                for r in 0..<b {
                    let row = z.baseAddress! + r * k
                    var best = 0
                    for j in 1..<k where row[j] > row[best] { best = j }
                    let pos = ex.positives[i0 + r]
                    guard !skip(i0 + r), !pos.contains(UInt32(best)) else { continue }
                    let bestPos = pos.map { row[Int($0)] }.max()!
                    let gap = row[best] - bestPos
                    Kernels.softmaxRows(row, n: 1, k: k)
                    let score: Float = ranking == .confidence ? row[best] : ranking == .margin ? -gap : 0
                    marked.append((score, i0 + r, UInt32(best)))
                }
            }
            i0 += b
        }
        report.marked = marked.count
        if ranking == .random {
            var rng = RandomGenerator(seed: seed)
            for i in stride(from: marked.count - 1, to: 0, by: -1) { marked.swapAt(i, rng.below(i + 1)) }
        } else {
            marked.sort { $0.score > $1.score || ($0.score == $1.score && $0.query < $1.query) }
        }
        let take = Int((Double(marked.count) * fraction).rounded())
        var holders = assignment.clustersByVector()
        report.sizesBefore = sizes(assignment)
        for m in marked.prefix(take) {
            let key = Int(keys[m.query])
            if !holders[key].contains(m.cluster) {
                holders[key].append(m.cluster)
                report.copies += 1
            }
        }
        var vs = [UInt32](), cs = [UInt32]()
        for (v, list) in holders.enumerated() {
            for c in list { vs.append(UInt32(v)); cs.append(c) }
        }
        let out = Assignment(clusterCount: assignment.clusterCount, vectors: vs, clusters: cs)
        report.sizesAfter = sizes(out)
        return (out, report)
    }

    static func sizes(_ a: Assignment) -> [Int] {
        var s = [Int](repeating: 0, count: a.clusterCount)
        for c in a.clusters { s[Int(c)] += 1 }
        return s
    }
}
