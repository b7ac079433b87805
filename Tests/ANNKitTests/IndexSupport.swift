import ANNKit
import Foundation
import Testing

/// Small packed indexes over real data, built with the library's writer, for the tests of
/// the index, the query engine and the router.
struct IndexFixture {
    var dim: Int
    /// Base vectors as float32 (for uint8 bases, the byte values).
    var base: [Float]
    var type: ElementType
    var metric: Metric
    /// `k × dim`, as stored in the index.
    var centroids: [Float]
    var k: Int { centroids.count / dim }
    var count: Int { base.count / dim }
    /// Per vector, its clusters, home cluster first.
    var clustersOf: [[UInt32]]

    /// Per cluster, its vectors in ascending order.
    var members: [[UInt32]] {
        var m = [[UInt32]](repeating: [], count: k)
        for (v, cs) in clustersOf.enumerated() { for c in cs { m[Int(c)].append(UInt32(v)) } }
        return m
    }

    var assignment: Assignment {
        var vs = [UInt32](), cs = [UInt32]()
        for (v, list) in clustersOf.enumerated() { for c in list { vs.append(UInt32(v)); cs.append(c) } }
        return Assignment(clusterCount: k, vectors: vs, clusters: cs)
    }

    func row(_ i: Int) -> ArraySlice<Float> { base[(i * dim)..<((i + 1) * dim)] }

    /// The base fingerprint of the base as stored (float32 values, or bytes for uint8).
    var baseFingerprint: UInt64 {
        var h = BaseFingerprint(elementType: type, dim: dim)
        if type == .float32 {
            base.withUnsafeBytes { h.update($0) }
        } else {
            base.map { UInt8($0) }.withUnsafeBytes { h.update($0) }
        }
        return h.value
    }

    /// The first `n` siftsmall base vectors, clustered around `k` of them (every 97th): each
    /// vector's home is its nearest such centroid. Every `duplicateEvery`-th vector is also
    /// stored in the next cluster; `emptyClusters` extra centroids (far away) get no vector.
    static func sift(n: Int = 3000, k: Int = 8, metric: Metric = .l2, duplicateEvery: Int? = nil, emptyClusters: Int = 0,
                     type: ElementType = .float32) throws -> IndexFixture {
        let sift = try SampleData.siftBase()
        let d = sift.dim
        let base = Array(sift.values[0..<(n * d)])
        var centroids = [Float]()
        for c in 0..<k { centroids += sift.row(c * 97) }
        for e in 0..<emptyClusters { centroids += [Float](repeating: 1000 + Float(e), count: d) }
        if metric != .l2 { centroids.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: $0.count / d, d: d) } }
        var clustersOf = [[UInt32]]()
        for i in 0..<n {
            // Nearest in double precision: squared distance for l2, largest inner product otherwise.
            var best = 0, bestD = Double.infinity
            for c in 0..<k {
                var s = 0.0
                for j in 0..<d {
                    let x = Double(base[i * d + j]), y = Double(centroids[c * d + j])
                    s += metric == .l2 ? (x - y) * (x - y) : -x * y
                }
                if s < bestD { bestD = s; best = c }
            }
            var list = [UInt32(best)]
            if let e = duplicateEvery, i % e == 0 { list.append(UInt32((best + 1) % k)) }
            clustersOf.append(list)
        }
        // SIFT values are integers 0...255: the same base can be stored as uint8.
        precondition(type == .float32 || base.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
        return IndexFixture(dim: d, base: base, type: type, metric: metric, centroids: centroids, clustersOf: clustersOf)
    }

    /// Writes the index with `IndexWriter`, vector by vector, as ann-pack does.
    @discardableResult
    func pack(to path: String, level: Int = 3, budget: Int = 64 << 20) throws -> IndexWriter.Report {
        let out = try OutputFile(path: path)
        let w = IndexWriter(output: out, dim: dim, type: type, metric: metric, centroids: centroids, level: level, budget: budget)
        for i in 0..<count {
            let clusters = clustersOf[i][...]
            if type == .float32 {
                try base.withUnsafeBytes { try w.add(id: i, raw: $0.baseAddress! + i * dim * 4, clusters: clusters) }
            } else {
                let bytes = row(i).map { UInt8($0) }
                try bytes.withUnsafeBytes { try w.add(id: i, raw: $0.baseAddress!, clusters: clusters) }
            }
        }
        let r = try w.finish(baseFingerprint: baseFingerprint)
        try out.commit()
        return r
    }
}

/// Reads the whole of cluster `c`: its ids and its vectors as float32.
func fetchCluster(_ index: PackedIndex, _ c: Int) throws -> (ids: [UInt32], vectors: [Float]) {
    let b = ClusterBuffers()
    let n = try index.fetch(c, into: b)
    return (Array(UnsafeBufferPointer(start: b.ids, count: n)), Array(UnsafeBufferPointer(start: b.floats, count: n * index.dim)))
}

/// Exact k nearest neighbours of `queries` in `base` with the library's exact search.
func exactNeighbours(queries: [Float], base: [Float], dim: Int, k: Int, metric: Metric) throws -> NeighborList {
    try withTemporaryDirectory { dir in
        try writeNativeVectors(base, dim: dim, to: "\(dir)/base.annv")
        return try GroundTruth.compute(queries: queries, dim: dim, base: try VectorReader(path: "\(dir)/base.annv"), k: k, metric: metric)
    }
}

/// A small real routing problem: siftsmall in 16 k-means clusters, 2,000 BIGANN vectors as
/// training queries, each labelled with the cluster of its nearest siftsmall vector. Built
/// once per test process.
struct RouterProblem: Sendable {
    var index: IndexFixture
    var examples: RouterExamples
    /// The nearest base vector of each training query.
    var keys: [UInt32]

    static let queryCount = 2000

    private static let shared = Result { try build() }
    static func get() throws -> RouterProblem { try shared.get() }

    private static func build() throws -> RouterProblem {
        let sift = try SampleData.siftBase()
        let d = sift.dim, n = sift.count, k = 16
        var p = KMeansParameters(k: k)
        p.iterations = 6
        p.seed = 4
        let trained = try sift.values.withUnsafeBufferPointer { try KMeans.train(data: $0.baseAddress!, n: n, d: d, parameters: p) }
        var labels = [UInt32](repeating: 0, count: n)
        var dists = [Float](repeating: 0, count: n)
        try sift.values.withUnsafeBufferPointer { data in
            try labels.withUnsafeMutableBufferPointer { l in
                try dists.withUnsafeMutableBufferPointer { dd in
                    try KMeans.assign(data: data.baseAddress!, n: n, d: d, centroids: trained.centroids, k: k, metric: .l2,
                                  labels: l.baseAddress!, distances: dd.baseAddress!)
                }
            }
        }
        let index = IndexFixture(dim: d, base: sift.values, type: .float32, metric: .l2, centroids: trained.centroids,
                                 clustersOf: labels.map { [$0] })
        let queries = Array(try SampleData.bigannBase().values.prefix(queryCount * d))
        let truth = try exactNeighbours(queries: queries, base: sift.values, dim: d, k: 1, metric: .l2)
        let examples = try RouterExamples(queries: queries, dim: d, truth: truth, assignment: index.assignment)
        return RouterProblem(index: index, examples: examples, keys: truth.ids)
    }

    /// A fresh model for the problem's clustering, bound to `fingerprint`.
    func model(hidden: Int = 32, centroidWeight: Float, fingerprint: UInt64, seed: UInt64 = 1) -> RouterModel {
        let norm = RouterTrainer.normalisation(examples)
        return RouterModel(dim: index.dim, clusterCount: index.k, hidden1: hidden, hidden2: hidden, metric: .l2,
                           centroids: index.centroids, fingerprint: fingerprint, centroidWeight: centroidWeight,
                           mean: norm.mean, scale: norm.scale, seed: seed)
    }
}

/// Scores of a router for `n` queries: `n × clusterCount`, smaller = better.
func routerScores(_ router: ClusterRouter, _ queries: [Float], dim: Int) -> [Float] {
    let n = queries.count / dim
    var s = [Float](repeating: 0, count: n * router.clusterCount)
    queries.withUnsafeBufferPointer { q in
        s.withUnsafeMutableBufferPointer { router.score(queries: q.baseAddress!, n: n, dim: dim, into: $0.baseAddress!) }
    }
    return s
}

/// Clusters in rank order (smaller score first, then smaller cluster) for each query.
func rankings(_ scores: [Float], clusters k: Int) -> [[Int]] {
    stride(from: 0, to: scores.count, by: k).map { o in
        (0..<k).sorted { scores[o + $0] < scores[o + $1] || (scores[o + $0] == scores[o + $1] && $0 < $1) }
    }
}
