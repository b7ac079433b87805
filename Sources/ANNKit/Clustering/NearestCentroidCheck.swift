/// The check a foreign assignment (.ivecs, .ibin) gets in place of the identity a native one
/// carries: for a sample of vectors (the first ones of the base), is each vector's nearest
/// centroid among the clusters the assignment gives it? Every assignment ann-tools makes
/// (k-means, SPANN replication, duplication) holds that for every vector; one made for other
/// centroids or another base holds it for about one vector in K.
public struct NearestCentroidCheck {
    /// Vectors sampled: enough to tell agreement from chance, cheap next to packing.
    public static let sampleSize = 2048

    private let centroids: [Float]
    private let clusterCount: Int
    private let dim: Int
    private let metric: Metric
    private var vectors: [Float] = []
    private var lists: [[UInt32]] = []

    /// `centroids` in the form the index stores them (unit length for ip and cos).
    public init(storedCentroids centroids: [Float], dim: Int, metric: Metric) {
        self.centroids = centroids
        clusterCount = centroids.count / dim
        self.dim = dim
        self.metric = metric
    }

    public var isFull: Bool { lists.count >= Self.sampleSize }
    public var sampled: Int { lists.count }

    /// Adds one vector, as stored (`type`), with the clusters the assignment gives it.
    public mutating func add(raw: UnsafeRawPointer, type: ElementType, clusters: ArraySlice<UInt32>) {
        guard !isFull else { return }
        if type == .uint8 {
            let b = raw.assumingMemoryBound(to: UInt8.self)
            for j in 0..<dim { vectors.append(Float(b[j])) }
        } else {
            vectors.append(contentsOf: UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Float.self), count: dim))
        }
        lists.append(Array(clusters))
    }

    /// How many sampled vectors have their nearest centroid among their clusters.
    public func agreeing() throws -> Int {
        let n = lists.count
        guard n > 0 else { return 0 }
        var data = vectors
        metric.prepare(&data, d: dim)
        var labels = [UInt32](repeating: 0, count: n)
        var dists = [Float](repeating: 0, count: n)
        try data.withUnsafeBufferPointer { d in
            try KMeans.assign(data: d.baseAddress!, n: n, d: dim, centroids: centroids, k: clusterCount, metric: metric,
                          labels: &labels, distances: &dists)
        }
        return (0..<n).filter { lists[$0].contains(labels[$0]) }.count
    }

    /// Refuses an assignment that fails the check for more than half of the sample.
    public func verify(source: String) throws {
        let n = lists.count, agree = try agreeing()
        guard 2 * agree >= n else {
            throw ANNError.badData(source: source, message: "does not fit the centroids and base: only \(agree) of the first \(n) vectors have their nearest centroid among their clusters (an assignment made for another clustering or base; a .ivecs or .ibin assignment records neither, so this sample is all that can be checked)")
        }
    }
}
