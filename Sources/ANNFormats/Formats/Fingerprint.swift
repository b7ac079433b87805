/// The identity of a clustering (ann-formats(5), FINGERPRINTS): what an index, a router model
/// and an assignment record so that a consumer can refuse inputs made for another clustering.
public enum Fingerprint {
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
