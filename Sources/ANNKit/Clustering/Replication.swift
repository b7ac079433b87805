/// SPANN's build-time replication (Chen et al., "SPANN: Highly-efficient Billion-scale
/// Approximate Nearest Neighbor Search", NeurIPS 2021): a vector near the boundary of its
/// cluster is also stored in the neighbouring clusters, so that a query routed to either side
/// finds it.
///
/// Of a vector's `replicas` nearest clusters, taken in increasing distance, cluster j is kept
/// when its distance d_j is at most (1 + `epsilon`) · d_1, d_1 being the nearest one's, and no
/// cluster already kept has its centroid nearer to c_j than the vector is (SPANN's RNG rule:
/// a second copy on the far side of a kept cluster would add little). The nearest cluster
/// (the home) always comes first, then the replicas in increasing distance.
///
/// Distances in both rules: the Euclidean distance for l2 (not squared, so that ε is a
/// relative distance); 1 − cosine for ip and cos, between a vector and a centroid
/// (1 − x·c/‖x‖, centroids being unit length) and between two centroids (1 − cᵢ·cⱼ). A vector
/// of zeros is at distance 1 from every centroid under ip and cos.
public struct Replication: Sendable {
    /// At most this many clusters per vector, home included (R).
    public let replicas: Int
    /// The closure factor: replicas lie within (1 + ε) of the nearest distance.
    public let epsilon: Float
    public let metric: Metric
    public let dim: Int
    public let clusterCount: Int
    /// `clusterCount × dim`, row-major; unit-length rows for ip and cos.
    public let centroids: [Float]
    /// The K × K table of centroid distances, when it is small enough to keep.
    private let between: [Float]?

    /// Up to this many clusters the table of centroid distances is kept (16 MiB); beyond, the
    /// few pairs the RNG rule asks about are measured when asked.
    public static let tableLimit = 2048

    /// `centroids` (K × `dim`) are scaled to unit length for ip and cos, as ann-pack stores them.
    public init(centroids: [Float], dim: Int, metric: Metric, replicas: Int = ReplicationParameters.defaultReplicas,
                epsilon: Float = ReplicationParameters.defaultEpsilon) {
        precondition(replicas >= 1 && epsilon >= 0 && dim > 0 && !centroids.isEmpty && centroids.count % dim == 0)
        let k = centroids.count / dim
        var c = centroids
        if metric != .l2 { c.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: k, d: dim) } }
        self.replicas = replicas
        self.epsilon = epsilon
        self.metric = metric
        self.dim = dim
        self.clusterCount = k
        self.centroids = c
        guard k <= Self.tableLimit else { between = nil; return }
        var table = [Float](repeating: 0, count: k * k)
        c.withUnsafeBufferPointer { cp in
            table.withUnsafeMutableBufferPointer { tp in
                let t = tp.baseAddress!, cb = cp.baseAddress!
                Parallel.forEach(min(k, 16)) { part in
                    for i in stride(from: part, to: k, by: min(k, 16)) {
                        for j in 0..<k { t[i * k + j] = Self.measure(metric, cb + i * dim, cb + j * dim, dim) }
                    }
                }
            }
        }
        between = table
    }

    /// The distance of both rules from an internal distance (`Kernels.distance`: squared
    /// Euclidean for l2, −x·c for ip and cos) and the vector's squared norm.
    @inline(__always)
    public static func distance(_ metric: Metric, internal d: Float, squaredNorm: Float) -> Float {
        if metric == .l2 { return max(d, 0).squareRoot() }
        guard squaredNorm > 0 else { return 1 }
        return max(0, 1 + d / squaredNorm.squareRoot())
    }

    /// The distance of both rules between two centroids (unit length for ip and cos).
    @inline(__always)
    static func measure(_ metric: Metric, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        metric == .l2 ? Kernels.l2sq(a, b, d).squareRoot() : max(0, 1 - Kernels.dot(a, b, d))
    }

    /// The distance between centroids `i` and `j`.
    public func centroidDistance(_ i: Int, _ j: Int) -> Float {
        if let between { return between[i * clusterCount + j] }
        return centroids.withUnsafeBufferPointer { c in
            Self.measure(metric, c.baseAddress! + i * dim, c.baseAddress! + j * dim, dim)
        }
    }

    /// Applies both rules to one vector's candidates: `clusters` in increasing `distances`
    /// (distances of the rules), nearest first. Returns the clusters kept, home first; at
    /// most `replicas` of them.
    public func select(clusters: [UInt32], distances: [Float]) -> [UInt32] {
        guard let home = clusters.first else { return [] }
        var kept: [UInt32] = [home]
        // At distance 0 only ties can join, whatever ε (an infinite one included).
        let limit = distances[0] > 0 ? (1 + epsilon) * distances[0] : 0
        for j in 1..<min(clusters.count, replicas) {
            // Candidates come nearest first: once one is out of reach, so are the rest.
            guard distances[j] <= limit else { break }
            let c = Int(clusters[j])
            if kept.contains(where: { centroidDistance(Int($0), c) < distances[j] }) { continue }
            kept.append(clusters[j])
        }
        return kept
    }

    /// The clusters of each of `count` vectors (row-major, unit length for cos), home first.
    /// `projection` (l2) only makes the search for the nearest centroids faster. Every vector
    /// gets at least its home: one with no finite distance to any centroid throws, naming it
    /// as `firstID` + its row, rather than being left out.
    public func assign(_ data: UnsafePointer<Float>, count n: Int, projection: Projection? = nil, firstID: Int = 0) throws -> [[UInt32]] {
        guard n > 0 else { return [] }
        let r = min(replicas, clusterCount)
        let search = TopKSearch(queries: data, count: n, dim: dim, k: r, metric: metric, projection: projection)
        centroids.withUnsafeBufferPointer { search.add(base: $0.baseAddress!, n: clusterCount, firstID: 0) }
        var out = [[UInt32]](repeating: [], count: n)
        out.withUnsafeMutableBufferPointer { o in
            let lists = o.baseAddress!
            parallelRows(n, minimum: 1024) { rows in
                var ids = [UInt32](), dists = [Float]()
                for q in rows {
                    let norm = metric == .l2 ? 0 : Kernels.dot(data + q * dim, data + q * dim, dim)
                    ids.removeAll(keepingCapacity: true)
                    dists.removeAll(keepingCapacity: true)
                    for e in search.heaps.sorted(q) {
                        ids.append(e.id)
                        dists.append(Self.distance(metric, internal: e.distance, squaredNorm: norm))
                    }
                    lists[q] = select(clusters: ids, distances: dists)
                }
            }
        }
        if let q = out.firstIndex(where: \.isEmpty) {
            throw ANNError.badData(source: "vector \(firstID + q)",
                                   message: "no finite distance to any of the \(clusterCount) centroids (values too large for float32 distances)")
        }
        return out
    }

    /// Streams `reader` in blocks of `block` vectors, handing each block's lists to `emit`
    /// with the id of its first vector; never holds more than one block. Vectors are scaled
    /// to unit length for cos. `progress` gets the number of vectors done.
    public func assign(_ reader: VectorReader, block: Int = 65536, projection: Projection? = nil,
                       emit: (_ first: Int, _ lists: [[UInt32]]) throws -> Void, progress: (Int) -> Void = { _ in }) throws {
        guard reader.dim == dim else {
            throw ANNError.badData(source: reader.name, message: "dimension \(reader.dim) does not match the centroids' \(dim)")
        }
        let block = reader.blockRecords(preferred: block)
        var buf = [Float](repeating: 0, count: block * dim)
        var seen = 0
        while true {
            let n = try buf.withUnsafeMutableBufferPointer { try reader.read(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            let lists = try buf.withUnsafeMutableBufferPointer { b in
                metric.prepare(b.baseAddress!, n: n, d: dim)
                return try assign(b.baseAddress!, count: n, projection: projection, firstID: seen)
            }
            try emit(seen, lists)
            seen += n
            progress(seen)
        }
    }
}
