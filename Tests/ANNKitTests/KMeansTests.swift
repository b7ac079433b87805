import ANNKit
import Testing

/// Invariants rather than golden centroids: the objective does not rise, a seed fixes the
/// result, and on real data no cluster is left empty.
@Suite struct KMeansTests {
    struct Run {
        var result: KMeans.Result
        var objectives: [Double]
        var repaired: Int
    }

    static func train(_ data: [Float], dim: Int, k: Int, iterations: Int = 10, seed: UInt64 = 1, metric: Metric = .l2,
                      initialization: KMeansParameters.Initialization = .kmeansPlusPlus) throws -> Run {
        var p = KMeansParameters(k: k)
        p.iterations = iterations
        p.seed = seed
        p.metric = metric
        p.initialization = initialization
        var objectives: [Double] = []
        var repaired = 0
        var seeded = 0
        let result = try data.withUnsafeBufferPointer { buf in
            try KMeans.train(data: buf.baseAddress!, n: data.count / dim, d: dim, parameters: p) { event in
                switch event {
                case .seeded: seeded += 1
                case .iteration(let index, let of, let objective, _, let r):
                    #expect(index == objectives.count + 1)
                    #expect(of == iterations)
                    objectives.append(objective)
                    repaired += r
                }
            }
        }
        #expect(seeded == 1)
        #expect(objectives.count == iterations)
        #expect(result.centroids.count == k * dim)
        return Run(result: result, objectives: objectives, repaired: repaired)
    }

    static func clusterSizes(_ data: [Float], dim: Int, centroids: [Float], k: Int, metric: Metric = .l2) throws -> [Int] {
        let n = data.count / dim
        var labels = [UInt32](repeating: 0, count: n)
        var dists = [Float](repeating: 0, count: n)
        try data.withUnsafeBufferPointer {
            try KMeans.assign(data: $0.baseAddress!, n: n, d: dim, centroids: centroids, k: k, metric: metric, labels: &labels, distances: &dists)
        }
        var sizes = [Int](repeating: 0, count: k)
        for l in labels { sizes[Int(l)] += 1 }
        return sizes
    }

    /// Lloyd's objective is monotone in exact arithmetic; the slack only absorbs float32
    /// rounding of the distances (about 1e-7 of the total), far below any real rise.
    @Test(arguments: [KMeansParameters.Initialization.kmeansPlusPlus, .random])
    func objectiveNeverRises(_ initialization: KMeansParameters.Initialization) throws {
        let sift = try SampleData.siftBase()
        let run = try Self.train(sift.values, dim: sift.dim, k: 64, iterations: 12, initialization: initialization)
        #expect(run.objectives.allSatisfy { $0 > 0 && $0.isFinite })
        for i in 1..<run.objectives.count {
            #expect(run.objectives[i] <= run.objectives[i - 1] * (1 + 1e-6), "iteration \(i + 1): \(run.objectives)")
        }
        // Training does something: the last objective is well below the first.
        #expect(run.objectives.last! < run.objectives.first! * 0.95)
    }

    @Test func sameSeedSameCentroidsOtherSeedOthers() throws {
        let sift = try SampleData.siftBase()
        let a = try Self.train(sift.values, dim: sift.dim, k: 32, iterations: 5, seed: 42)
        let b = try Self.train(sift.values, dim: sift.dim, k: 32, iterations: 5, seed: 42)
        let c = try Self.train(sift.values, dim: sift.dim, k: 32, iterations: 5, seed: 43)
        #expect(a.result.centroids == b.result.centroids)
        #expect(a.objectives == b.objectives)
        #expect(a.result.centroids != c.result.centroids)
    }

    @Test func everyClusterIsUsedOnRealData() throws {
        let sift = try SampleData.siftBase()
        let k = 100
        let run = try Self.train(sift.values, dim: sift.dim, k: k, iterations: 10)
        let sizes = try Self.clusterSizes(sift.values, dim: sift.dim, centroids: run.result.centroids, k: k)
        #expect(sizes.reduce(0, +) == sift.count)
        #expect(sizes.allSatisfy { $0 > 0 }, "empty clusters: \(sizes.indices.filter { sizes[$0] == 0 })")
        // The training labels are the clusters before the last update: valid cluster ids.
        #expect(run.result.labels.count == sift.count)
        #expect(run.result.labels.allSatisfy { $0 < k })
    }

    /// The nearest centroid found by `assign` is the nearest by brute force.
    @Test func assignFindsTheNearestCentroid() throws {
        let sift = try SampleData.siftBase()
        let d = sift.dim
        let run = try Self.train(sift.values, dim: d, k: 16, iterations: 3)
        let data = Array(sift.values[0..<(500 * d)])
        var labels = [UInt32](repeating: 0, count: 500)
        var dists = [Float](repeating: 0, count: 500)
        try data.withUnsafeBufferPointer {
            try KMeans.assign(data: $0.baseAddress!, n: 500, d: d, centroids: run.result.centroids, k: 16, metric: .l2,
                          projection: run.result.projection, labels: &labels, distances: &dists)
        }
        for i in 0..<500 {
            let all = (0..<16).map { c in squaredDistance(data[(i * d)..<((i + 1) * d)], run.result.centroids[(c * d)..<((c + 1) * d)]) }
            let best = all.min()!
            #expect(abs(all[Int(labels[i])] - best) <= best * 1e-5, "vector \(i)")
        }
    }

    /// Spherical k-means: for ip and cos the centroids stay at unit length.
    @Test(arguments: [Metric.ip, .cos])
    func similarityCentroidsAreUnitLength(_ metric: Metric) throws {
        let sift = try SampleData.siftBase()
        var data = Array(sift.values[0..<(2000 * sift.dim)])
        if metric == .cos { data.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: 2000, d: sift.dim) } }
        let run = try Self.train(data, dim: sift.dim, k: 16, iterations: 5, metric: metric)
        for c in 0..<16 {
            let row = run.result.centroids[(c * sift.dim)..<((c + 1) * sift.dim)]
            let norm = row.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(norm - 1) < 1e-4, "centroid \(c)")
        }
    }

    @Test func refusesKLargerThanTheData() {
        let data: [Float] = (0..<20).map { Float($0) }
        for k in [11, 0] {
            let e = annError {
                var p = KMeansParameters(k: k)
                p.iterations = 2
                _ = try data.withUnsafeBufferPointer { try KMeans.train(data: $0.baseAddress!, n: 10, d: 2, parameters: p) }
            }
            guard case .usage? = e else { Issue.record("k = \(k): expected a usage error, got \(String(describing: e))"); continue }
        }
    }

    /// k equal to n: every vector is its own cluster.
    @Test func kEqualToN() throws {
        let data: [Float] = (0..<20).map { Float($0 * $0) }
        let run = try Self.train(data, dim: 2, k: 10, iterations: 3)
        let pairs = { (v: [Float]) -> Set<[Float]> in Set((0..<10).map { Array(v[(2 * $0)..<(2 * $0 + 2)]) }) }
        #expect(pairs(run.result.centroids) == pairs(data))
        #expect(run.objectives.last == 0)
    }
}
