// Normalising centroids is arithmetic, so it lives above the formats layer; the fingerprint
// itself (`Fingerprint.clustering(storedCentroids:)`) is defined with the formats.
extension Fingerprint {
    /// The centroids in the form an index stores them: unchanged for l2, each row scaled to unit
    /// length for ip and cos (a copy; `centroids` is `k × dim` float32).
    public static func storedCentroids(_ centroids: [Float], dim: Int, metric: Metric) -> [Float] {
        guard metric != .l2, dim > 0 else { return centroids }
        var c = centroids
        c.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: $0.count / dim, d: dim) }
        return c
    }

    /// The clustering fingerprint of centroids as a clustering produced them (not yet normalised
    /// for ip or cos): the value the index packed from them records. This is the one definition
    /// every producer and consumer (k-means, pack, the index reader, duplication) shares.
    public static func clustering(centroids: [Float], dim: Int, metric: Metric) -> UInt64 {
        clustering(storedCentroids: storedCentroids(centroids, dim: dim, metric: metric), dim: dim, metric: metric)
    }
}
