import ANNKit
import Glibc
import Testing

/// Which clusters a query fetches, given its scores (smaller = better) and the cluster sizes.
@Suite struct ProbeSelectionTests {
    static let scores: [Float] = [5, 1, 3, 1, 9]
    static let sizes = [10, 20, 30, 40, 50]

    func choose(_ s: ProbeSelection, _ scores: [Float] = scores, _ sizes: [Int] = sizes) -> [Int] {
        scores.withUnsafeBufferPointer { s.choose(scores: $0.baseAddress!, sizes: sizes) }
    }

    /// Rank order; equal scores rank the smaller cluster first.
    @Test func nprobeTakesTheBestInRankOrder() {
        #expect(choose(.nprobe(1)) == [1])
        #expect(choose(.nprobe(2)) == [1, 3])
        #expect(choose(.nprobe(3)) == [1, 3, 2])
        #expect(choose(.nprobe(5)) == [1, 3, 2, 0, 4])
        #expect(choose(.nprobe(50)) == [1, 3, 2, 0, 4])
    }

    @Test func budgetTakesClustersUntilEnoughVectors() {
        // Smaller than one cluster: that one cluster, whatever its size.
        #expect(choose(.budget(1)) == [1])
        #expect(choose(.budget(5)) == [1])
        #expect(choose(.budget(20)) == [1])
        #expect(choose(.budget(21)) == [1, 3])
        #expect(choose(.budget(60)) == [1, 3])
        #expect(choose(.budget(61)) == [1, 3, 2])
        #expect(choose(.budget(150)) == [1, 3, 2, 0, 4])
        // More than all clusters hold: all of them.
        #expect(choose(.budget(1_000_000)) == [1, 3, 2, 0, 4])
    }

    /// Empty clusters add nothing: the budget reaches past them.
    @Test func emptyClustersDoNotCountTowardsTheBudget() {
        #expect(choose(.budget(1), [0, 1, 2, 3], [0, 0, 7, 7]) == [0, 1, 2])
        #expect(choose(.budget(8), [0, 1, 2, 3], [0, 0, 7, 7]) == [0, 1, 2, 3])
        #expect(choose(.nprobe(2), [0, 1, 2, 3], [0, 0, 7, 7]) == [0, 1])
    }

    /// Scores are −log p + const: p ∝ exp(−score). A cluster is fetched when p/size ≥ λ, the best always.
    @Test func thresholdFetchesClustersWorthTheirSize() {
        let scores: [Float] = [0, 1, 2, 0.5]
        let sizes = [100, 10, 10, 1000]
        let z = scores.map { Glibc.exp(-Double($0)) }.reduce(0, +)
        let perVector = zip(scores, sizes).map { Glibc.exp(-Double($0)) / z / Double($1) }
        // Sorted by p/size: cluster 1 (0.0211), 2 (0.0078), 0 (0.0057), 3 (0.00035).
        func at(_ x: Double) -> Float { Float(x) }
        #expect(choose(.threshold(1), scores, sizes) == [0])
        #expect(choose(.threshold(at(perVector[1] * 0.999)), scores, sizes) == [0, 1])
        #expect(choose(.threshold(at(perVector[2] * 0.999)), scores, sizes) == [0, 1, 2])
        #expect(choose(.threshold(at(perVector[3] * 1.001)), scores, sizes) == [0, 1, 2])
        // Everything, in rank order (by score, not by p/size).
        #expect(choose(.threshold(at(perVector[3] * 0.999)), scores, sizes) == [0, 3, 1, 2])
        // A per-query constant in the scores changes nothing.
        #expect(choose(.threshold(at(perVector[2] * 0.999)), scores.map { $0 + 1000 }, sizes) == [0, 1, 2])
    }

    @Test func thresholdSkipsEmptyClustersButKeepsTheBest() {
        #expect(choose(.threshold(1e-9), [0, 1, 2], [0, 5, 0]) == [0, 1])
        #expect(choose(.threshold(1e-9), [3, 1, 2], [0, 5, 0]) == [1])
    }


    @Test func manyClustersAgainstAFullSort() {
        var rng = RandomGenerator(seed: 3)
        let k = 700
        let scores = (0..<k).map { _ in Float(rng.below(400)) }
        let sizes = (0..<k).map { _ in rng.below(30) }
        let order = (0..<k).sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        for n in [1, 7, 64, 65, 300, 700, 701] {
            #expect(choose(.nprobe(n), scores, sizes) == Array(order.prefix(n)), "nprobe \(n)")
        }
        let total = sizes.reduce(0, +)
        for v in [1, 100, 1000, 5000, total, total + 1] {
            let got = choose(.budget(v), scores, sizes)
            #expect(got == Array(order.prefix(got.count)), "budget \(v): rank order")
            let fetched = got.reduce(0) { $0 + sizes[$1] }
            if got.count < k {
                #expect(fetched >= v, "budget \(v)")
                // One cluster fewer would not have been enough.
                #expect(fetched - sizes[got.last!] < v || got.count == 1, "budget \(v): minimal")
            } else {
                #expect(fetched <= v || fetched - sizes[got.last!] < v, "budget \(v)")
            }
        }
        #expect(choose(.budget(total + 1), scores, sizes).count == k)
    }
}

/// SPANN's query-time pruning of the chosen clusters.
@Suite struct ProbePruningTests {
    func prune(_ clusters: [Int], query: [Float], centroids: [Float], dim: Int, metric: Metric = .l2, epsilon: Float) -> [Int] {
        var c = clusters
        query.withUnsafeBufferPointer { q in
            centroids.withUnsafeBufferPointer {
                ProbeSelection.prune(&c, query: q.baseAddress!, centroids: $0.baseAddress!, dim: dim, metric: metric, epsilon: epsilon)
            }
        }
        return c
    }

    /// Centroids 1, 1.05, 1.19, 1.09 and 3 from the query (on a line).
    static let line: [Float] = [1, 1.05, 1.19, 1.09, 3]

    /// The bound is on the distance: 1.09 stays within 1.1 (its square, 1.19, would not).
    @Test func dropsClustersBeyondTheClosure() {
        #expect(prune([0, 1, 3, 2, 4], query: [0], centroids: Self.line, dim: 1, epsilon: 0.1) == [0, 1, 3])
        #expect(prune([0, 1, 3, 2, 4], query: [0], centroids: Self.line, dim: 1, epsilon: 0.2) == [0, 1, 3, 2])
        #expect(prune([0, 1, 3, 2, 4], query: [0], centroids: Self.line, dim: 1, epsilon: 0) == [0])
        #expect(prune([0, 1, 3, 2, 4], query: [0], centroids: Self.line, dim: 1, epsilon: 10) == [0, 1, 3, 2, 4])
        #expect(prune([0], query: [0], centroids: Self.line, dim: 1, epsilon: 0) == [0])
        #expect(prune([], query: [0], centroids: Self.line, dim: 1, epsilon: 0) == [])
        // A query on a centroid keeps only the clusters at distance 0, whatever E.
        #expect(prune([0, 1, 3], query: [1], centroids: Self.line, dim: 1, epsilon: .infinity) == [0])
        #expect(prune([0, 1, 3], query: [0], centroids: Self.line, dim: 1, epsilon: .infinity) == [0, 1, 3])
    }

    /// The first-ranked cluster is kept whatever its distance (a ranking by size weight may
    /// put a far one first); the bound is set by the nearest chosen one; the order stays.
    @Test func keepsTheFirstAndTheOrder() {
        #expect(prune([4, 2, 3, 1], query: [0], centroids: Self.line, dim: 1, epsilon: 0.1) == [4, 3, 1])
        #expect(prune([2, 4, 3], query: [0], centroids: Self.line, dim: 1, epsilon: 0.1) == [2, 3])
    }

    /// ip and cos: 1 − cosine, whatever the query's length.
    @Test(arguments: [Metric.ip, .cos])
    func similarityMetricsUseOneMinusCosine(_ metric: Metric) {
        let deg = Float.pi / 180
        let angles: [Float] = [0, 30, 90]
        let c = angles.flatMap { [Glibc.cos($0 * deg), Glibc.sin($0 * deg)] }
        let q: [Float] = [Glibc.cos(14 * deg), Glibc.sin(14 * deg)].map { metric == .ip ? $0 * 30 : $0 }
        // 1 − cos 16° = 0.0387 is 1.30 times 1 − cos 14° = 0.0297.
        #expect(prune([0, 1, 2], query: q, centroids: c, dim: 2, metric: metric, epsilon: 0.25) == [0])
        #expect(prune([0, 1, 2], query: q, centroids: c, dim: 2, metric: metric, epsilon: 0.35) == [0, 1])
        #expect(prune([0, 1, 2], query: q, centroids: c, dim: 2, metric: metric, epsilon: 30) == [0, 1, 2])
    }
}
