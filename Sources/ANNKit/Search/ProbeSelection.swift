import Glibc

/// How many of the ranked clusters a query fetches.
public enum ProbeSelection: Sendable, Equatable {
    /// The N best-ranked clusters.
    case nprobe(Int)
    /// Clusters in rank order until at least V vectors are fetched (always at least one).
    case budget(Int)
    /// Every cluster whose probability of holding the nearest neighbour, per vector it holds,
    /// is at least λ (always the best-ranked one): the fractional-knapsack rule for buying
    /// recall with fetched vectors. Needs scores that are −log p up to a per-query constant,
    /// as a router model's are.
    case threshold(Float)

    /// The clusters to fetch, in rank order, given one query's scores (smaller = better).
    public func choose(scores: UnsafePointer<Float>, sizes: [Int]) -> [Int] {
        let k = sizes.count
        func ranked(_ m: Int) -> [Int] { Self.ranked(m, scores: scores, count: k) }
        switch self {
        case .nprobe(let n):
            return ranked(min(n, k))
        case .budget(let v):
            var m = min(k, 64)
            while true {
                let order = ranked(m)
                var total = 0
                for (i, c) in order.enumerated() {
                    total += sizes[c]
                    if total >= v { return Array(order[0...i]) }
                }
                if m == k { return order }
                m = min(k, m * 4)
            }
        case .threshold(let lambda):
            // log p_c = −s_c − log Σ exp(−s): the scores' per-query constant cancels.
            var best = 0
            for c in 1..<k where scores[c] < scores[best] { best = c }
            var sum = 0.0
            for c in 0..<k { sum += Glibc.exp(Double(scores[best] - scores[c])) }
            let logLambda = Glibc.log(Double(lambda))
            let floor = Glibc.log(sum) - Double(scores[best])
            var picked = [(Float, Int)]()
            for c in 0..<k where c != best && sizes[c] > 0 {
                if -Double(scores[c]) - floor - Glibc.log(Double(sizes[c])) >= logLambda { picked.append((scores[c], c)) }
            }
            picked.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            return [best] + picked.map(\.1)
        }
    }
}

extension ProbeSelection {
    /// The `m` best of `count` scores (smaller first, ties to the smaller number), in rank
    /// order: a bounded max-heap, so count·log m instead of a full sort.
    public static func ranked(_ m: Int, scores: UnsafePointer<Float>, count k: Int) -> [Int] {
        func worse(_ a: (Float, Int), _ b: (Float, Int)) -> Bool { a.0 > b.0 || (a.0 == b.0 && a.1 > b.1) }
        let capacity = max(0, min(m, k))
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, capacity)) { keys in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, capacity)) { values in
                var size = 0
                for c in 0..<k {
                    BoundedHeap.offer(scores[c], c, keys: keys.baseAddress!, values: values.baseAddress!, size: &size,
                                      capacity: capacity) { worse(($0, $1), ($2, $3)) }
                }
                return (0..<size).map { (keys[$0], values[$0]) }.sorted { worse($1, $0) }.map(\.1)
            }
        }
    }

    /// SPANN's query-time pruning: of the clusters chosen for `query`, drops those whose
    /// centroid is more than (1 + `epsilon`) times as far as the nearest chosen one, with the
    /// distances of `Replication` (Euclidean for l2, 1 − cosine for ip and cos; the centroids
    /// unit length there, a query of unit length for cos). The first-ranked cluster is always
    /// kept; the others keep their order. Allocates nothing on the heap.
    ///
    /// The distances are measured here rather than taken from the router's scores: those omit
    /// ‖q‖² for l2 and may carry a size weight, and only the few chosen centroids are needed.
    public static func prune(_ clusters: inout [Int], query: UnsafePointer<Float>, centroids: UnsafePointer<Float>, dim: Int,
                             metric: Metric, epsilon: Float) {
        let n = clusters.count
        guard n > 1 else { return }
        let norm = metric == .l2 ? 0 : Kernels.dot(query, query, dim)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { dist in
            var nearest = Float.infinity
            for (i, c) in clusters.enumerated() {
                let d = Kernels.distance(metric, query, centroids + c * dim, dim)
                dist[i] = Replication.distance(metric, internal: d, squaredNorm: norm)
                nearest = min(nearest, dist[i])
            }
            let limit = nearest > 0 ? (1 + epsilon) * nearest : 0
            var kept = 1
            for i in 1..<n where dist[i] <= limit {
                clusters[kept] = clusters[i]
                kept += 1
            }
            clusters.removeLast(n - kept)
        }
    }
}
