import Glibc

/// Answers queries from a packed index on storage. For a batch of queries it ranks the
/// clusters, chooses what each query fetches, then visits each needed cluster once
/// (cluster-major, on all cores): one pread, a checked decompression, and exact distances for
/// every query that chose it. The per-query figures count what each query needed as if run
/// alone; the physical reads of the batch are reported apart.
public final class QueryEngine {
    public struct QueryStats: Sendable {
        public var clusters = 0
        public var vectors = 0
        public var bytes = 0
        /// Requests its clusters take when read together (close frames coalesced on a remote
        /// store; one per cluster from a local file).
        public var requests = 0
        /// Wall time of the batch the query ran in (its latency with a batch of 1).
        public var micros = 0
    }

    public struct BatchTotals: Sendable {
        public var queries = 0
        public var clustersRead = 0
        public var bytesRead = 0
        public var seconds = 0.0
    }

    public let index: PackedIndex
    public let router: ClusterRouter
    public let threads: Int
    public private(set) var totals = BatchTotals()

    public init(index: PackedIndex, router: ClusterRouter, threads: Int = Machine.cores) {
        self.index = index
        self.router = router
        self.threads = max(1, threads)
    }

    /// The router's scores of `n` queries (`n × K`), for several searches of the same queries
    /// (a sweep) to share: routing is the same whatever the probe rule.
    public func route(queries input: [Float]) -> [Float] {
        let d = index.dim, n = input.count / d, kc = index.clusterCount
        var q = input
        if index.metric == .cos { q.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: n, d: d) } }
        BLAS.setThreads(1)
        var out = [Float](repeating: 0, count: n * kc)
        q.withUnsafeBufferPointer { qp in
            out.withUnsafeMutableBufferPointer { op in
                let block = 256
                Parallel.forEach((n + block - 1) / block) { b in
                    let lo = b * block, hi = min(n, lo + block)
                    router.score(queries: qp.baseAddress! + lo * d, n: hi - lo, dim: d, into: op.baseAddress! + lo * kc)
                }
            }
        }
        return out
    }

    /// Searches `n` queries (row-major, the index's dimension) as `parameters` say; returns the
    /// k nearest found and per-query fetch figures. `routed`: the queries' scores from
    /// `route(queries:)`, instead of routing them again.
    public func search(queries input: [Float], k: Int, parameters: SearchParameters = SearchParameters(),
                       routed: [Float]? = nil) throws -> (NeighborList, [QueryStats]) {
        let selection = parameters.probe, sizeWeight = parameters.sizeWeight
        let clock = Stopwatch()
        let d = index.dim
        let n = input.count / d
        precondition(routed == nil || routed!.count == n * index.clusterCount)
        var q = input
        if index.metric == .cos { q.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: n, d: d) } }
        let kc = index.clusterCount
        let sizes = index.entries.map(\.vectors)
        BLAS.setThreads(1)

        let logSizes = sizes.map { Float(Glibc.log(Double(max($0, 1)))) }
        // Route: every query's clusters, in rank order.
        var chosen = [[Int]](repeating: [], count: n)
        q.withUnsafeBufferPointer { qp in
            chosen.withUnsafeMutableBufferPointer { ch in
                // One scores buffer per worker, reused block after block: allocating one per
                // block lets the allocator keep several per thread.
                let block = 256, blocks = (n + block - 1) / block, workers = max(1, min(threads, blocks))
                Parallel.forEach(workers) { w in
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: min(n, block) * kc)
                    defer { scores.deallocate() }
                    for b in stride(from: w, to: blocks, by: workers) {
                        let lo = b * block, hi = min(n, lo + block)
                        if let routed {
                            routed.withUnsafeBufferPointer { scores.update(from: $0.baseAddress! + lo * kc, count: (hi - lo) * kc) }
                        } else {
                            router.score(queries: qp.baseAddress! + lo * d, n: hi - lo, dim: d, into: scores)
                        }
                        if sizeWeight != 0 {
                            for i in 0..<(hi - lo) { for c in 0..<kc { scores[i * kc + c] += sizeWeight * logSizes[c] } }
                        }
                        for i in lo..<hi {
                            ch[i] = selection.choose(scores: scores + (i - lo) * kc, sizes: sizes)
                            if let e = parameters.prune {
                                index.centroids.withUnsafeBufferPointer { cp in
                                    ProbeSelection.prune(&ch[i], query: qp.baseAddress! + i * d, centroids: cp.baseAddress!, dim: d,
                                                         metric: index.metric, epsilon: e)
                                }
                            }
                        }
                    }
                }
            }
        }
        var stats = [QueryStats](repeating: QueryStats(), count: n)
        var members = [[Int32]](repeating: [], count: kc)
        for i in 0..<n {
            for c in chosen[i] {
                members[c].append(Int32(i))
                stats[i].clusters += 1
                stats[i].vectors += sizes[c]
                stats[i].bytes += index.entries[c].size
            }
            stats[i].requests = index.requests(for: chosen[i])
        }
        let work = (0..<kc).filter { !members[$0].isEmpty }

        // Fetch and scan, cluster-major; each worker keeps its own heaps, merged at the end.
        let workers = min(threads, max(1, work.count))
        let heaps = (0..<workers).map { _ in NeighborHeaps(count: n, k: k) }
        var norms = [Float](repeating: 0, count: n)
        q.withUnsafeBufferPointer { qp in
            norms.withUnsafeMutableBufferPointer { Kernels.squaredNorms(qp.baseAddress!, n: n, d: d, into: $0.baseAddress!) }
        }
        // Within NormLimit every distance is finite, so no candidate can fall out of a list.
        if let i = norms.firstIndex(where: { NormLimit.exceeds(Double($0)) }) {
            throw ANNError.badData(source: "query \(i)", message: "squared norm \(NormLimit.describe(Double(norms[i]))) is too large: distances would overflow float32")
        }
        try q.withUnsafeBufferPointer { qp in
            try norms.withUnsafeBufferPointer { qn in
                let visit = { (c: Int, m: Int, w: Int, scratch: inout Scan) throws in
                    try self.scan(cluster: c, vectors: m, buffers: scratch.buffers, members: members[c], queries: qp.baseAddress!,
                                  queryNorms: qn.baseAddress!, heaps: heaps[w], group: &scratch.group, dots: &scratch.dots, xnorms: &scratch.xnorms)
                }
                guard index.storage.readsConcurrently else {
                    // A local file: each worker reads the next cluster when done with one.
                    try Parallel.queue(items: work.count, workers: workers, scratch: { Scan() }) { item, w, scratch in
                        try visit(work[item], try index.fetch(work[item], into: scratch.buffers), w, &scratch)
                    }
                    return
                }
                // A remote store: the frames of a window are requested in one wave, then decoded
                // and scanned on all cores.
                for window in index.waves(of: work) {
                    let frames = try index.readFrames(window)
                    try Parallel.queue(items: window.count, workers: workers, scratch: { Scan() }) { item, w, scratch in
                        try visit(window[item], try index.decode(window[item], frame: frames.frame(item), into: scratch.buffers), w, &scratch)
                    }
                }
            }
        }
        for w in 1..<workers { heaps[0].merge(heaps[w]) }
        let seconds = clock.seconds
        let micros = Int(seconds * 1e6)
        for i in 0..<n { stats[i].micros = micros }
        totals.queries += n
        totals.clustersRead += work.count
        totals.bytesRead += work.reduce(0) { $0 + index.entries[$1].size }
        totals.seconds += seconds
        return (heaps[0].neighborList(metric: index.metric), stats)
    }

    /// A scanning worker's buffers, reused cluster after cluster.
    private struct Scan {
        let buffers = ClusterBuffers()
        var group = [Float]()
        var dots = [Float]()
        var xnorms = [Float]()
    }

    /// Exact distances from one fetched cluster to the queries that chose it: sgemm screens,
    /// each possible winner is re-measured directly, and a vector stored in several clusters
    /// counts once.
    private func scan(cluster c: Int, vectors m: Int, buffers: ClusterBuffers, members: [Int32], queries: UnsafePointer<Float>,
                      queryNorms: UnsafePointer<Float>, heaps: NeighborHeaps, group: inout [Float], dots: inout [Float], xnorms: inout [Float]) throws {
        guard m > 0 else { return }
        let d = index.dim
        let g = members.count
        let l2 = index.metric == .l2
        if group.count < g * d { group = [Float](repeating: 0, count: g * d) }
        if dots.count < g * m { dots = [Float](repeating: 0, count: g * m) }
        if xnorms.count < m { xnorms = [Float](repeating: 0, count: m) }
        // Vectors are stored as given; cos compares them at unit length.
        if index.metric == .cos { Kernels.normalizeRows(buffers.floats, n: m, d: d) }
        let x = UnsafePointer(buffers.floats)
        let ids = UnsafePointer(buffers.ids)
        group.withUnsafeMutableBufferPointer { gp in
            for (r, qi) in members.enumerated() { (gp.baseAddress! + r * d).update(from: queries + Int(qi) * d, count: d) }
        }
        var maxNorm: Float = 0
        xnorms.withUnsafeMutableBufferPointer { xn in
            Kernels.squaredNorms(x, n: m, d: d, into: xn.baseAddress!)
            for j in 0..<m { maxNorm = max(maxNorm, xn[j]) }
        }
        // Within NormLimit every distance is finite, so no stored vector can fall out of a list;
        // the index's vectors were checked when packed, but it is read from storage.
        if let j = xnorms[0..<m].firstIndex(where: { NormLimit.exceeds(Double($0)) }) {
            throw ANNError.badData(source: index.name, message: "cluster \(c): vector \(ids[j]): squared norm \(NormLimit.describe(Double(xnorms[j]))) is too large: distances would overflow float32")
        }
        group.withUnsafeBufferPointer { gp in
            dots.withUnsafeMutableBufferPointer { dp in
                BLAS.gemmABt(m: g, n: m, k: d, alpha: l2 ? -2 : -1, a: gp.baseAddress!, lda: d, b: x, ldb: d, beta: 0, c: dp.baseAddress!, ldc: m)
                xnorms.withUnsafeBufferPointer { xn in
                    for (r, qi) in members.enumerated() {
                        let q = Int(qi)
                        let qp = queries + q * d
                        let slack = (queryNorms[q] + maxNorm) * 0x1p-15 + Float.leastNormalMagnitude
                        _ = heaps.screen(q, row: dp.baseAddress! + r * m, norms: l2 ? xn.baseAddress! : nil, n: m,
                                         shift: l2 ? queryNorms[q] : 0, slack: slack, unique: true,
                                         measure: { Kernels.distance(self.index.metric, qp, x + $0 * d, d) },
                                         id: { ids[$0] })
                    }
                }
            }
        }
    }
}
