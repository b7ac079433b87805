/// Which stored vectors lie nearest a boundary of their cluster: those the PQ router codes.
extension PQRouterTrainer {
    /// The other centroids a stored vector's nearest other centroid is looked for among: those
    /// nearest its own. Scoring every centroid would cost what the assignment of the base
    /// costs (N·K); a vector's nearest other centroid lies, but for the rarest exceptions,
    /// among its own centroid's nearest thousand, so the cost stays linear in N. With no more
    /// clusters than this, every centroid is scored.
    public static let boundaryNeighbours = 1024

    /// How near each stored vector lies to a boundary of its cluster, in storage order (cluster
    /// by cluster): smaller is nearer. For l2 the ratio of its distances to the nearest other
    /// centroid and to its own; otherwise the margin between the two (as internal distances).
    /// The other centroids are the `neighbours` nearest its own.
    public static func boundaryScores(_ index: PackedIndex, threads: Int, neighbours: Int = boundaryNeighbours) throws -> [Float] {
        let d = index.dim, k = index.clusterCount
        let counts = index.entries.map(\.vectors)
        var start = [0]
        for c in counts { start.append(start.last! + c) }
        var out = [Float](repeating: 0, count: start[k])
        var norms = [Float](repeating: 0, count: k)
        index.centroids.withUnsafeBufferPointer { cb in norms.withUnsafeMutableBufferPointer { Kernels.squaredNorms(cb.baseAddress!, n: k, d: d, into: $0.baseAddress!) } }
        let l2 = index.metric == .l2
        // Per cluster, the centroids compared: all of them, or its own (first) and the
        // nearest others.
        let others = k <= neighbours + 1 ? nil : nearestCentroids(index, norms: norms, count: neighbours)
        let m = others == nil ? k : neighbours + 1
        BLAS.setThreads(1)
        try out.withUnsafeMutableBufferPointer { ob in
            try index.forEachCluster(threads: threads, scratch: { (dist: [Float](), near: [Float](), nearNorms: [Float]()) }) { c, n, buffers, s in
                if s.dist.count < n * m { s.dist = [Float](repeating: 0, count: n * m) }
                var ownColumn = c
                if let others {
                    ownColumn = 0
                    if s.near.isEmpty { s.near = [Float](repeating: 0, count: m * d); s.nearNorms = [Float](repeating: 0, count: m) }
                    for (j, o) in ([UInt32(c)] + others[(c * (m - 1))..<((c + 1) * (m - 1))]).enumerated() {
                        s.near.replaceSubrange((j * d)..<((j + 1) * d), with: index.centroids[(Int(o) * d)..<((Int(o) + 1) * d)])
                        s.nearNorms[j] = norms[Int(o)]
                    }
                }
                let (cents, cnorms) = others == nil ? (index.centroids, norms) : (s.near, s.nearNorms)
                s.dist.withUnsafeMutableBufferPointer { db in
                    cents.withUnsafeBufferPointer { cb in
                        BLAS.gemmABt(m: n, n: m, k: d, alpha: l2 ? -2 : -1, a: buffers.floats, lda: d, b: cb.baseAddress!, ldb: d,
                                     beta: 0, c: db.baseAddress!, ldc: m)
                    }
                    for i in 0..<n {
                        let row = db.baseAddress! + i * m
                        let x = buffers.floats + i * d
                        let xn = l2 ? Kernels.dot(x, x, d) : 0
                        var other = Float.infinity
                        for j in 0..<m where j != ownColumn { other = min(other, row[j] + (l2 ? cnorms[j] : 0)) }
                        let own = row[ownColumn] + (l2 ? cnorms[ownColumn] : 0)
                        if l2 {
                            let a = max(own + xn, 0), b = max(other + xn, 0)
                            ob[start[c] + i] = a > 0 ? (b / a).squareRoot() : .infinity
                        } else {
                            ob[start[c] + i] = other - own
                        }
                    }
                }
            }
        }
        return out
    }

    /// Per cluster, the `count` other centroids nearest its own (squared l2 for l2, the
    /// inner product otherwise, as the scores compare them), `count` ids a row.
    static func nearestCentroids(_ index: PackedIndex, norms: [Float], count: Int) -> [UInt32] {
        let d = index.dim, k = index.clusterCount, l2 = index.metric == .l2
        var out = [UInt32](repeating: 0, count: k * count)
        let block = 256
        var dist = [Float](repeating: 0, count: block * k)
        var keys = [Float](repeating: 0, count: count), ids = [UInt32](repeating: 0, count: count)
        for c0 in stride(from: 0, to: k, by: block) {
            let b = min(block, k - c0)
            index.centroids.withUnsafeBufferPointer { cb in
                dist.withUnsafeMutableBufferPointer { db in
                    BLAS.gemmABt(m: b, n: k, k: d, alpha: l2 ? -2 : -1, a: cb.baseAddress! + c0 * d, lda: d, b: cb.baseAddress!, ldb: d,
                                 beta: 0, c: db.baseAddress!, ldc: k)
                }
            }
            for r in 0..<b {
                let c = c0 + r
                var size = 0
                keys.withUnsafeMutableBufferPointer { kb in
                    ids.withUnsafeMutableBufferPointer { ib in
                        // Which are kept is all that matters: the scores take their minimum.
                        for j in 0..<k where j != c {
                            BoundedHeap.offer(dist[r * k + j] + (l2 ? norms[j] : 0), UInt32(j), keys: kb.baseAddress!, values: ib.baseAddress!,
                                              size: &size, capacity: count) { ka, va, kb, vb in ka > kb || (ka == kb && va > vb) }
                        }
                    }
                }
                for i in 0..<count { out[c * count + i] = ids[i] }
            }
        }
        return out
    }
}
