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

    /// A (query, key) pair whose top-1 predicted cluster does not hold the key.
    public struct Mark: Sendable, Equatable {
        /// The query's number in its whole file (a slice's marks are numbered as in the file).
        public var query: Int
        public var key: UInt32
        /// The predicted cluster.
        public var cluster: UInt32
        /// The predicted cluster's probability, and the gap to the best cluster holding the
        /// key, negated: the scores `confidence` and `margin` rank by.
        public var confidence: Float
        public var margin: Float

        public init(query: Int, key: UInt32, cluster: UInt32, confidence: Float, margin: Float) {
            self.query = query
            self.key = key
            self.cluster = cluster
            self.confidence = confidence
            self.margin = margin
        }
    }

    /// Returns the assignment with the copies added: still sorted by vector, each vector's
    /// clusters in `assignment`'s order with its copies after them.
    /// Examples for which `skip` is true (the queries ann-train holds out) are never marked,
    /// so that validation stays blind to duplication.
    public static func run(model: any ClusterRouter, examples ex: RouterExamples, keys: [UInt32], assignment: Assignment,
                           fraction: Double, ranking: Ranking, seed: UInt64, skip: (Int) -> Bool = { _ in false }) -> (Assignment, Report) {
        let marks = mark(model: model, examples: ex, keys: keys, skip: skip)
        return apply(marks, pairs: ex.count, assignment: assignment, fraction: fraction, ranking: ranking, seed: seed)
    }

    /// The marked pairs of `ex` in query order, the queries numbered from `firstQuery` (the
    /// slice's place in its file; `skip` takes those numbers).
    public static func mark(model: any ClusterRouter, examples ex: RouterExamples, keys: [UInt32], firstQuery: Int = 0,
                            skip: (Int) -> Bool = { _ in false }) -> [Mark] {
        let k = model.clusterCount, d = ex.dim
        var marked = [Mark]()
        // Blocks of the whole file's query numbers, each scored whole, the rows outside the
        // slice copies of one inside it: BLAS's last bits depend on a batch's size, so a query
        // is scored in the same batch whatever slice it is marked in, and the slices' marks
        // are the one run's.
        let block = 1024
        var logits = [Float](repeating: 0, count: block * k)
        var batch = [Float](repeating: 0, count: block * d)
        let end = firstQuery + ex.count
        var g0 = firstQuery / block * block
        while g0 < end {
            let lo = max(g0, firstQuery), hi = min(g0 + block, end)
            for r in 0..<block {
                let from = (min(max(g0 + r, lo), hi - 1) - firstQuery) * d
                for t in 0..<d { batch[r * d + t] = ex.queries[from + t] }
            }
            batch.withUnsafeBufferPointer { q in
                logits.withUnsafeMutableBufferPointer { model.score(queries: q.baseAddress!, n: block, dim: d, into: $0.baseAddress!) }
            }
            // Scores are −logits.
            for i in ((lo - g0) * k)..<((hi - g0) * k) { logits[i] = -logits[i] }
            logits.withUnsafeMutableBufferPointer { z in
                for query in lo..<hi {
                    let row = z.baseAddress! + (query - g0) * k
                    var best = 0
                    for j in 1..<k where row[j] > row[best] { best = j }
                    let pos = ex.positives[query - firstQuery]
                    guard !skip(query), !pos.contains(UInt32(best)) else { continue }
                    let bestPos = pos.map { row[Int($0)] }.max()!
                    let gap = row[best] - bestPos
                    Kernels.softmaxRows(row, n: 1, k: k)
                    marked.append(Mark(query: query, key: keys[query - firstQuery], cluster: UInt32(best), confidence: row[best], margin: -gap))
                }
            }
            g0 += block
        }
        return marked
    }

    /// Ranks `marks` (of `pairs` training pairs, in query order) and copies the key of the top
    /// `fraction` into its predicted cluster.
    public static func apply(_ marks: [Mark], pairs: Int, assignment: Assignment, fraction: Double, ranking: Ranking,
                             seed: UInt64) -> (Assignment, Report) {
        var report = Report()
        report.pairs = pairs
        report.marked = marks.count
        var marked = marks.map { m -> (score: Float, mark: Mark) in
            (ranking == .confidence ? m.confidence : ranking == .margin ? m.margin : 0, m)
        }
        if ranking == .random {
            var rng = RandomGenerator(seed: seed)
            for i in stride(from: marked.count - 1, to: 0, by: -1) { marked.swapAt(i, rng.below(i + 1)) }
        } else {
            marked.sort { $0.score > $1.score || ($0.score == $1.score && $0.mark.query < $1.mark.query) }
        }
        let take = Int((Double(marked.count) * fraction).rounded())
        var holders = assignment.clustersByVector()
        report.sizesBefore = sizes(assignment)
        for (_, m) in marked.prefix(take) {
            let key = Int(m.key)
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
