/// The identity of a clustering (ann-formats(5), FINGERPRINTS): what an index, a router model
/// and an assignment record so that a consumer can refuse inputs made for another clustering.
public enum Fingerprint {
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

    /// The clustering fingerprint of centroids already in stored form (as `PackedIndex.centroids`
    /// holds them): FNV-1a 64 over K and dim as uint32, the metric code, then the float32 bytes.
    /// Stored centroids are hashed as they are, since scaling a unit vector again may change its bits.
    public static func clustering(storedCentroids: [Float], dim: Int, metric: Metric) -> UInt64 {
        precondition(dim > 0 && storedCentroids.count % dim == 0)
        var head = [UInt8](repeating: 0, count: 9)
        head.storeLE(UInt32(truncatingIfNeeded: storedCentroids.count / dim), at: 0)
        head.storeLE(UInt32(truncatingIfNeeded: dim), at: 4)
        head[8] = metric.code
        let h = head.withUnsafeBytes { Checksum.fnv1a($0) }
        return storedCentroids.withUnsafeBytes { Checksum.fnv1a($0, seed: h) }
    }
}
