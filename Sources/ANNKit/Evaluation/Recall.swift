/// Recall of a result list against exact ground truth. A returned neighbour counts as a hit
/// when its id is a true neighbour's or its distance is no worse than the true one it stands
/// for, so ties at equal distance (exact duplicates in the base) are hits.
public struct Recall: Sendable {
    /// Fraction of queries whose first result is a nearest neighbour.
    public var at1: Double
    /// Fraction of the true 10 nearest found among the first 10 results (10-recall@10); nil
    /// when the ground truth holds fewer than 10 neighbours per query. Then the "true 10" are
    /// not known, and counting against the k there are would be another measure under the same
    /// name (with k = 1, whether the nearest is among the first 10: near 1 where 10-recall@10
    /// is far lower), so none is given.
    public var at10: Double?
    public var queries: Int
    /// Queries whose first result is a nearest neighbour, and true 10 nearest found among the
    /// first 10 results (nil with `at10`): the counts behind the fractions, which add up over
    /// slices of a query file.
    public var hits1: Int
    public var hits10: Int?
    /// Neighbours per query that recall@10 needs in the ground truth.
    public static let neighboursForAt10 = 10

    /// `source` names the results in errors.
    public init(results: NeighborList, truth: NeighborList, source: String = "results") throws {
        guard results.count == truth.count else {
            throw ANNError.badData(source: source, message: "\(results.count) queries, the ground truth has \(truth.count)")
        }
        guard results.metric == truth.metric else {
            throw ANNError.metricMismatch(source: source, what: "results", recorded: results.metric, expected: truth.metric,
                                          against: "ground truth")
        }
        let n = results.count
        let sim = truth.metric.isSimilarity
        func noWorse(_ a: Float, _ b: Float) -> Bool { sim ? a >= b : a <= b }
        var hits1 = 0, hits10 = 0
        let m = Self.neighboursForAt10
        let scoreAt10 = truth.k >= m
        for q in 0..<n {
            let r = results.row(q), rd = results.rowDistances(q)
            let t = truth.row(q), td = truth.rowDistances(q)
            let r0 = r[r.startIndex], t0 = t[t.startIndex]
            if r0 != NeighborList.noID && (r0 == t0 || noWorse(rd[rd.startIndex], td[td.startIndex])) { hits1 += 1 }
            guard scoreAt10 else { continue }
            let truthSet = Set(t.prefix(m))
            let limit = td[td.startIndex + m - 1]
            var h = 0
            for j in 0..<min(m, results.k) {
                let id = r[r.startIndex + j]
                guard id != NeighborList.noID else { break }
                if truthSet.contains(id) || noWorse(rd[rd.startIndex + j], limit) { h += 1 }
            }
            hits10 += min(h, m)
        }
        self.hits1 = hits1
        self.hits10 = scoreAt10 ? hits10 : nil
        queries = n
        at1 = Self.fraction(hits1, of: n)
        at10 = self.hits10.map { Self.fraction($0, of: n * m) }
    }

    /// `hits` out of `n`, 0 for none.
    public static func fraction(_ hits: Int, of n: Int) -> Double { Double(hits) / Double(max(1, n)) }
}
