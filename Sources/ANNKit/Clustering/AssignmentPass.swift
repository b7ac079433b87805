/// Assigns vectors to a clustering and writes the assignment: each vector to its nearest
/// centroid, or with replication also to SPANN's nearby clusters, home first (`Replication`).
/// The assignment ends with the identity of the clustering and of the base it was made for.
///
/// The vectors come in memory (a training sample that holds every vector) or streamed from a
/// reader, one block at a time; either way a vector gets the same clusters.
public struct AssignmentPass {
    /// `clusterCount × dim`, as the nearest-centroid search uses them.
    public let centroids: [Float]
    public let dim: Int
    public let metric: Metric
    public let clusterCount: Int
    /// The clustering fingerprint the assignment records.
    public let clustering: UInt64
    /// The replication rule; nil assigns each vector to its nearest cluster alone.
    public let replication: Replication?
    /// Only makes the search for the nearest centroids faster (l2).
    private let projection: Projection?
    /// The cluster of each training vector before k-means' last update, a hint for its final one.
    private let hints: [UInt32]?

    /// Assigns to the centroids k-means has just trained, as they are (for ip and cos they are
    /// unit length already), with its projection and labels to speed the search.
    public init(model: KMeans.Result, dim: Int, metric: Metric, replication: ReplicationParameters?) {
        centroids = model.centroids
        self.dim = dim
        self.metric = metric
        clusterCount = model.centroids.count / dim
        clustering = Fingerprint.clustering(centroids: model.centroids, dim: dim, metric: metric)
        self.replication = replication.map {
            Replication(centroids: model.centroids, dim: dim, metric: metric, replicas: $0.replicas, epsilon: $0.epsilon)
        }
        projection = model.projection
        hints = model.labels
    }

    /// Assigns to given centroids (`k × dim`, as a clustering produced them), in the form an
    /// index stores them, so that the vectors land where ann-pack's check expects them.
    public init(centroids given: [Float], dim: Int, metric: Metric, replication: ReplicationParameters?) {
        let stored = Fingerprint.storedCentroids(given, dim: dim, metric: metric)
        centroids = stored
        self.dim = dim
        self.metric = metric
        clusterCount = stored.count / dim
        clustering = Fingerprint.clustering(storedCentroids: stored, dim: dim, metric: metric)
        self.replication = replication.map {
            Replication(centroids: stored, dim: dim, metric: metric, replicas: $0.replicas, epsilon: $0.epsilon)
        }
        projection = nil
        hints = nil
    }

    /// An empty summary of this pass's assignment.
    private func summary() -> AssignmentSummary {
        AssignmentSummary(clusterCount: clusterCount, cap: replication.map { min($0.replicas, $0.clusterCount) } ?? 1)
    }

    /// Assigns `sample`, which holds every vector of `base` (read to its end) in the form the
    /// metric compares (see `Metric.prepare`), and writes the assignment to `output` in
    /// `format`. The hints of `init(model:)` are for these vectors, in this order.
    public func assign(_ sample: Sampler.Sample, of base: VectorReader, to output: OutputFile,
                       format: FileFormat) throws -> AssignmentSummary {
        let n = sample.count, d = dim
        if let rep = replication {
            let w = try AssignmentWriter(output: output, format: format, clusterCount: clusterCount, pairCount: nil)
            var tally = summary()
            let block = 65536
            try sample.data.withUnsafeBufferPointer { data in
                for first in stride(from: 0, to: n, by: block) {
                    let lists = try rep.assign(data.baseAddress! + first * d, count: min(block, n - first), projection: projection, firstID: first)
                    try tally.write(lists, first: first, to: w)
                }
            }
            try w.finish(identity: AssignmentIdentity(clustering: clustering, base: base))
            return tally
        }
        let identity = try AssignmentIdentity(clustering: clustering, base: base)
        var labels = [UInt32](repeating: 0, count: n)
        var dists = [Float](repeating: 0, count: n)
        try sample.data.withUnsafeBufferPointer { data in
            try (hints ?? []).withUnsafeBufferPointer { h in
                try KMeans.assign(data: data.baseAddress!, n: n, d: d, centroids: centroids, k: clusterCount, metric: metric,
                                  projection: projection, hints: hints == nil ? nil : h.baseAddress, labels: &labels, distances: &dists)
            }
        }
        let w = try AssignmentWriter(output: output, format: format, clusterCount: clusterCount, pairCount: n)
        var sizes = [Int](repeating: 0, count: clusterCount)
        for i in 0..<n {
            try w.append(vector: i, cluster: Int(labels[i]))
            sizes[Int(labels[i])] += 1
        }
        try w.finish(identity: identity)
        return AssignmentSummary(sizes: sizes)
    }

    /// Streams `reader`, which must not have been read yet (the pass fingerprints it for the
    /// identity), scaling its vectors as the metric compares them, and writes the assignment to
    /// `output` in `format`. Holds one block of vectors at a time; `progress` gets the number
    /// of vectors done.
    public func assign(_ reader: VectorReader, to output: OutputFile, format: FileFormat,
                       progress: (Int) -> Void = { _ in }) throws -> AssignmentSummary {
        reader.fingerprinting = true
        if let rep = replication {
            let w = try AssignmentWriter(output: output, format: format, clusterCount: clusterCount, pairCount: nil)
            var tally = summary()
            try rep.assign(reader, projection: projection, emit: { try tally.write($1, first: $0, to: w) }, progress: progress)
            try w.finish(identity: AssignmentIdentity(clustering: clustering, base: reader))
            return tally
        }
        let d = reader.dim
        let block = reader.blockRecords(preferred: 65536)
        var buf = [Float](repeating: 0, count: block * d)
        var labels = [UInt32](repeating: 0, count: block)
        var dists = [Float](repeating: 0, count: block)
        let w = try AssignmentWriter(output: output, format: format, clusterCount: clusterCount, pairCount: reader.count)
        var sizes = [Int](repeating: 0, count: clusterCount)
        var seen = 0
        while true {
            let n = try buf.withUnsafeMutableBufferPointer { try reader.read(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            try buf.withUnsafeMutableBufferPointer { b in
                metric.prepare(b.baseAddress!, n: n, d: d)
                try KMeans.assign(data: b.baseAddress!, n: n, d: d, centroids: centroids, k: clusterCount, metric: metric,
                                  projection: projection, firstID: seen, labels: &labels, distances: &dists)
            }
            for i in 0..<n {
                try w.append(vector: seen + i, cluster: Int(labels[i]))
                sizes[Int(labels[i])] += 1
            }
            seen += n
            progress(seen)
        }
        try w.finish(identity: AssignmentIdentity(clustering: clustering, base: reader))
        return AssignmentSummary(sizes: sizes)
    }
}
