/// Lloyd's k-means on sgemm. For ip and cos the centroids are kept at unit length (spherical
/// k-means, as FAISS does for inner-product clustering), and cos expects unit-length data.
/// Deterministic for a seed: partial sums are reduced in a fixed order whatever the cores.
public enum KMeans {
    /// What training yields: the centroids, and what assigning more vectors can reuse.
    public struct Result: Sendable {
        /// `k × d`, row-major.
        public var centroids: [Float]
        /// The screen that speeds up assignment (nil where it cannot help).
        public var projection: Projection?
        /// The cluster of each training vector before the last update: a good hint for its
        /// final cluster.
        public var labels: [UInt32]
    }

    /// Clusters `n` vectors (row-major, `d` wide).
    public static func train(data: UnsafePointer<Float>, n: Int, d: Int, parameters p: KMeansParameters,
                             progress: (KMeansEvent) -> Void = { _ in }) throws -> Result {
        let k = p.k
        guard k >= 1 else { throw ANNError.usage("k must be at least 1") }
        guard n >= k else { throw ANNError.usage("k (\(k)) is larger than the number of training vectors (\(n))") }
        var rng = RandomGenerator(seed: p.seed)
        var t0 = Stopwatch()
        var centroids: [Float]
        switch p.initialization {
        case .random: centroids = randomSeeds(data: data, n: n, d: d, k: k, rng: &rng)
        case .kmeansPlusPlus: centroids = plusPlusSeeds(data: data, n: n, d: d, k: k, sampleFactor: p.plusPlusSampleFactor, rng: &rng)
        }
        if p.metric != .l2 { centroids.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: k, d: d) } }
        progress(.seeded(seconds: t0.seconds))
        var labelArray = [UInt32](repeating: 0, count: n)
        let dists = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { dists.deallocate() }
        let projection = TopKSearch.defaultProjection(queries: data, count: n, dim: d, metric: p.metric)
        let search = TopKSearch(queries: data, count: n, dim: d, k: 1, metric: p.metric, projection: projection)
        try labelArray.withUnsafeMutableBufferPointer { lb in
          let labels = lb.baseAddress!
          for it in 0..<p.iterations {
            t0 = Stopwatch()
            search.reset()
            centroids.withUnsafeBufferPointer { search.add(base: $0.baseAddress!, n: k, firstID: 0, hints: it > 0 ? labels : nil) }
            search.nearest(into: labels, distances: dists)
            try checkLabels(labels, n: n, k: k, firstID: 0, what: "training vector")
            var objective = 0.0
            for i in 0..<n { objective += Double(dists[i]) }
            let repaired = try update(data: data, n: n, d: d, labels: labels, centroids: &centroids, k: k, metric: p.metric, rng: &rng)
            progress(.iteration(index: it + 1, of: p.iterations, objective: objective, seconds: t0.seconds, repaired: repaired))
          }
        }
        return Result(centroids: centroids, projection: projection, labels: labelArray)
    }

    /// The nearest centroid of each of `n` vectors, and its internal distance. `projection`
    /// and `hints` (a likely cluster per vector) only make it faster. Every vector gets a
    /// cluster or the call throws: a vector with no finite distance to any centroid is an
    /// error naming it (`firstID` + its row), never a vector left in no cluster.
    public static func assign(data: UnsafePointer<Float>, n: Int, d: Int, centroids: [Float], k: Int, metric: Metric,
                              projection: Projection? = nil, hints: UnsafePointer<UInt32>? = nil, firstID: Int = 0,
                              labels: UnsafeMutablePointer<UInt32>, distances: UnsafeMutablePointer<Float>) throws {
        let search = TopKSearch(queries: data, count: n, dim: d, k: 1, metric: metric, projection: projection)
        centroids.withUnsafeBufferPointer { search.add(base: $0.baseAddress!, n: k, firstID: 0, hints: hints) }
        search.nearest(into: labels, distances: distances)
        try checkLabels(labels, n: n, k: k, firstID: firstID, what: "vector")
    }

    /// Throws for the first vector that found no centroid (its distances were all +inf or
    /// NaN: values too large for float32, which `VectorReader` refuses at the door).
    static func checkLabels(_ labels: UnsafePointer<UInt32>, n: Int, k: Int, firstID: Int, what: String) throws {
        for i in 0..<n where Int(labels[i]) >= k {
            throw ANNError.badData(source: "\(what) \(firstID + i)",
                                   message: "no finite distance to any of the \(k) centroids (values too large for float32 distances)")
        }
    }

    /// Moves each centroid to the mean of its vectors; an empty cluster takes half of a large
    /// one (split along a small perturbation). Returns the number of empty clusters repaired.
    static func update(data: UnsafePointer<Float>, n: Int, d: Int, labels: UnsafePointer<UInt32>, centroids: inout [Float],
                       k: Int, metric: Metric, rng: inout RandomGenerator) throws -> Int {
        // A label outside 0..<k (the no-neighbour sentinel) must never index the sums.
        try checkLabels(labels, n: n, k: k, firstID: 0, what: "training vector")
        // Sixteen partial sums keep the reduction order fixed whatever the cores; fewer where
        // they would take more memory than the data itself (few vectors, a huge dimension).
        let budget = max(64 << 20, 8 * n * d)
        let parts = max(1, min(16, budget / max(1, 8 * k * d)))
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: parts * k * d)
        sums.initialize(repeating: 0, count: parts * k * d)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts * k)
        counts.initialize(repeating: 0, count: parts * k)
        defer { sums.deallocate(); counts.deallocate() }
        Parallel.forEach(parts) { part in
            let lo = n * part / parts, hi = n * (part + 1) / parts
            let s = sums + part * k * d
            let c = counts + part * k
            for i in lo..<hi {
                let l = Int(labels[i])
                c[l] += 1
                let row = s + l * d, x = data + i * d
                for j in 0..<d { row[j] += Double(x[j]) }
            }
        }
        for part in 1..<parts {
            let s = sums + part * k * d
            for i in 0..<(k * d) { sums[i] += s[i] }
            for i in 0..<k { counts[i] += counts[part * k + i] }
        }
        var size = [Int](repeating: 0, count: k)
        centroids.withUnsafeMutableBufferPointer { c in
            for ci in 0..<k where counts[ci] > 0 {
                size[ci] = counts[ci]
                let inv = 1 / Double(counts[ci])
                for j in 0..<d { c[ci * d + j] = Float(sums[ci * d + j] * inv) }
            }
        }
        var repaired = 0
        for ci in 0..<k where size[ci] == 0 {
            // Pick a cluster to split with probability ∝ (size − 1), as FAISS does.
            let total = size.reduce(0) { $0 + max($1 - 1, 0) }
            guard total > 0 else { break }
            var r = rng.below(total)
            var cj = 0
            while r >= max(size[cj] - 1, 0) { r -= max(size[cj] - 1, 0); cj += 1 }
            let eps: Float = 1.0 / 1024
            for j in 0..<d {
                let v = centroids[cj * d + j]
                let s: Float = j % 2 == 0 ? 1 : -1
                centroids[ci * d + j] = v * (1 + s * eps)
                centroids[cj * d + j] = v * (1 - s * eps)
            }
            size[ci] = size[cj] / 2
            size[cj] -= size[ci]
            repaired += 1
        }
        if metric != .l2 { centroids.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: k, d: d) } }
        return repaired
    }

    static func randomSeeds(data: UnsafePointer<Float>, n: Int, d: Int, k: Int, rng: inout RandomGenerator) -> [Float] {
        // Partial Fisher-Yates over a sparse permutation: K distinct indices.
        var swapped = [Int: Int]()
        var out = [Float]()
        out.reserveCapacity(k * d)
        for i in 0..<k {
            let j = i + rng.below(n - i)
            let pick = swapped[j] ?? j
            swapped[j] = swapped[i] ?? i
            out.append(contentsOf: UnsafeBufferPointer(start: data + pick * d, count: d))
        }
        return out
    }

    static func plusPlusSeeds(data: UnsafePointer<Float>, n: Int, d: Int, k: Int, sampleFactor: Int, rng: inout RandomGenerator) -> [Float] {
        let m = min(n, max(k, sampleFactor * k))
        let sample = m == n ? Array(0..<n) : randomIndices(n: n, count: m, rng: &rng)
        var dist2 = [Float](repeating: .infinity, count: m)
        var out = [Float]()
        out.reserveCapacity(k * d)
        var pick = sample[rng.below(m)]
        let parts = 8
        for c in 0..<k {
            out.append(contentsOf: UnsafeBufferPointer(start: data + pick * d, count: d))
            guard c + 1 < k else { break }
            let center = data + pick * d
            var partial = [Double](repeating: 0, count: parts)
            dist2.withUnsafeMutableBufferPointer { dp in
                partial.withUnsafeMutableBufferPointer { pp in
                    Parallel.forEach(parts) { part in
                        var s = 0.0
                        for i in (m * part / parts)..<(m * (part + 1) / parts) {
                            let v = Kernels.l2sq(data + sample[i] * d, center, d)
                            if v < dp[i] { dp[i] = v }
                            s += Double(dp[i])
                        }
                        pp[part] = s
                    }
                }
            }
            let total = partial.reduce(0, +)
            if total <= 0 {
                pick = sample[rng.below(m)]
                continue
            }
            var r = Double(rng.unit()) * total
            var chosen = m - 1
            for i in 0..<m {
                r -= Double(dist2[i])
                if r < 0 { chosen = i; break }
            }
            pick = sample[chosen]
        }
        return out
    }

    /// `count` distinct indices below `n`, in ascending order.
    static func randomIndices(n: Int, count: Int, rng: inout RandomGenerator) -> [Int] {
        var chosen = Set<Int>()
        while chosen.count < count { chosen.insert(rng.below(n)) }
        return chosen.sorted()
    }
}
