extension Assignment {
    /// The membership a packed index holds: every cluster's frame read once (its checksum
    /// verified as `fetch` does), only its ids decoded. Pairs come sorted by vector, a vector's
    /// clusters in ascending cluster order: an index does not record which of a duplicated
    /// vector's clusters is its home. Every vector below the header's count must be in at least
    /// one cluster, each at most once per cluster, or the index is refused as damaged.
    ///
    /// Memory grows with the pairs actually decoded (each cluster's ids, then the sorted pairs),
    /// never with a count a header or the directory merely claims.
    public init(index: PackedIndex, progress: (Int) -> Void = { _ in }) throws {
        let k = index.clusterCount, n = index.vectorCount
        let buffers = ClusterBuffers()
        // Cluster-major ids, then a counting sort by vector: stable, so each vector's clusters
        // stay in the ascending order the clusters were read in.
        var ids = [UInt32]()
        var ends = [Int](repeating: 0, count: k)
        for c in 0..<k {
            // fetch refuses ids that do not ascend strictly or reach the header's count.
            let m = try index.fetch(c, into: buffers, vectors: false)
            ids.append(contentsOf: UnsafeBufferPointer(start: buffers.ids, count: m))
            ends[c] = ids.count
            progress(c + 1)
        }
        // Each vector at most once per cluster, so n vectors need at least n pairs: only then
        // is an array of n + 1 starts justified by the data.
        guard ids.count >= n else {
            throw ANNError.badData(source: index.name, message: "clusters hold \(ids.count) vectors, fewer than the \(n) the header counts")
        }
        var start = [Int](repeating: 0, count: n + 1)
        for v in ids { start[Int(v) + 1] += 1 }
        for v in 0..<n {
            guard start[v + 1] > 0 else {
                throw ANNError.badData(source: index.name, message: "vector \(v) is in no cluster (the index is damaged)")
            }
            start[v + 1] += start[v]
        }
        var vectors = [UInt32](repeating: 0, count: ids.count), clusters = [UInt32](repeating: 0, count: ids.count)
        var next = start
        var lo = 0
        for c in 0..<k {
            for i in lo..<ends[c] {
                let v = Int(ids[i])
                vectors[next[v]] = UInt32(truncatingIfNeeded: v)
                clusters[next[v]] = UInt32(truncatingIfNeeded: c)
                next[v] += 1
            }
            lo = ends[c]
        }
        self.init(clusterCount: k, vectors: vectors, clusters: clusters)
    }
}
