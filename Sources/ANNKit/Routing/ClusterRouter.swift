/// Ranks the clusters of an index for a query: the part of a search a learned model replaces.
public protocol ClusterRouter: Sendable {
    var clusterCount: Int { get }
    /// Writes `n × clusterCount` scores, smaller = more promising, for `n` queries.
    func score(queries: UnsafePointer<Float>, n: Int, dim: Int, into scores: UnsafeMutablePointer<Float>)
    /// Bytes the router holds in memory while routing, beyond the index directory (whose
    /// centroids every router reads).
    var footprint: Int { get }
}

/// The k-means baseline: clusters ranked by the distance from the query to their centroid.
public struct CentroidRouter: ClusterRouter {
    public let centroids: [Float]
    public let dim: Int
    public let metric: Metric
    private let norms: [Float]

    public init(centroids: [Float], dim: Int, metric: Metric) {
        self.centroids = centroids
        self.dim = dim
        self.metric = metric
        var n = [Float](repeating: 0, count: centroids.count / dim)
        centroids.withUnsafeBufferPointer { c in
            n.withUnsafeMutableBufferPointer { Kernels.squaredNorms(c.baseAddress!, n: $0.count, d: dim, into: $0.baseAddress!) }
        }
        norms = metric == .l2 ? n : [Float](repeating: 0, count: n.count)
    }

    public var clusterCount: Int { centroids.count / dim }

    /// The centroid norms: the centroids themselves belong to the index directory.
    public var footprint: Int { 4 * norms.count }

    public func score(queries: UnsafePointer<Float>, n: Int, dim: Int, into scores: UnsafeMutablePointer<Float>) {
        let k = clusterCount
        centroids.withUnsafeBufferPointer { c in
            BLAS.gemmABt(m: n, n: k, k: dim, alpha: metric == .l2 ? -2 : -1, a: queries, lda: dim,
                         b: c.baseAddress!, ldb: dim, beta: 0, c: scores, ldc: k)
        }
        norms.withUnsafeBufferPointer { nb in
            for i in 0..<n { for j in 0..<k { scores[i * k + j] += nb[j] } }
        }
    }
}
