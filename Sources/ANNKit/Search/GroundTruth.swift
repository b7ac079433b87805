/// Exact k nearest neighbours of a query set over a base streamed in blocks: memory is the
/// queries, their heaps and one block, whatever the size of the base.
public enum GroundTruth {
    /// `queries` is `count × dim`. Cos normalises queries and base on the fly. Ids are positions
    /// in the whole base: a base narrowed to a shard numbers its vectors from its `firstID`.
    /// `progress` receives the base vectors processed so far and the total when known.
    public static func compute(queries: [Float], dim: Int, base: VectorReader, k: Int, metric: Metric,
                               blockSize: Int = 65536, progress: (Int, Int?) -> Void = { _, _ in }) throws -> NeighborList {
        guard base.dim == dim else {
            throw ANNError.badData(source: base.name, message: "base dimension \(base.dim) does not match the queries' \(dim)")
        }
        guard k >= 1 else { throw ANNError.usage("k must be at least 1") }
        if let n = base.count, k > n { throw ANNError.usage("k (\(k)) is larger than the base (\(n) vectors)") }
        var q = queries
        let nq = q.count / dim
        metric.prepare(&q, d: dim)
        let rows = base.blockRecords(preferred: blockSize)
        var block = [Float](repeating: 0, count: rows * dim)
        // A base of unknown length (a pipe, zstd) must show k vectors before k neighbours per
        // query are allocated: its first vectors are held, growing as they arrive.
        var head = [Float]()
        if base.count == nil && k > rows {
            while head.count / dim < k {
                let n = try block.withUnsafeMutableBufferPointer { try base.read(into: $0.baseAddress!, maxCount: rows) }
                if n == 0 { throw ANNError.usage("k (\(k)) is larger than the base (\(head.count / dim) vectors)") }
                head.append(contentsOf: block[0..<(n * dim)])
            }
        }
        try MemoryLimit.check(count: nq * k, size: 8, for: "k \(k) neighbours for each of \(nq) queries")
        var seen = 0
        let result: NeighborList = try q.withUnsafeBufferPointer { qp in
            let projection = TopKSearch.defaultProjection(queries: qp.baseAddress!, count: nq, dim: dim, metric: metric)
            let search = TopKSearch(queries: qp.baseAddress!, count: nq, dim: dim, k: k, metric: metric, projection: projection)
            if !head.isEmpty {
                let n = head.count / dim
                head.withUnsafeMutableBufferPointer { b in
                    metric.prepare(b.baseAddress!, n: n, d: dim)
                    search.add(base: b.baseAddress!, n: n, firstID: base.firstID)
                }
                head = []
                seen = n
                progress(seen, base.count)
            }
            while true {
                let n = try block.withUnsafeMutableBufferPointer { try base.read(into: $0.baseAddress!, maxCount: rows) }
                if n == 0 { break }
                block.withUnsafeMutableBufferPointer { b in
                    metric.prepare(b.baseAddress!, n: n, d: dim)
                    search.add(base: b.baseAddress!, n: n, firstID: base.firstID + seen)
                }
                seen += n
                progress(seen, base.count)
            }
            if let bad = search.firstIncomplete() {
                throw ANNError.badData(source: base.name, message: "query \(bad.query): only \(bad.found) of \(min(k, seen)) neighbours have a finite distance (values too large for float32 distances)")
            }
            return search.result()
        }
        guard k <= seen else { throw ANNError.usage("k (\(k)) is larger than the base (\(seen) vectors)") }
        return result
    }

    /// The neighbour lists of the same queries over disjoint slices of one base (shards, with
    /// global ids), merged into the list over the whole base: per query the k best of all,
    /// nearest first (for ip and cos, the most similar), ties to the smaller id, exactly as one
    /// run over the whole base orders them. The parts must agree on k, metric and queries.
    public static func merge(_ parts: [NeighborList], names: [String]) throws -> NeighborList {
        guard let first = parts.first else { throw ANNError.usage("nothing to merge") }
        let k = first.k, metric = first.metric, n = first.count
        for (p, name) in zip(parts, names) {
            guard p.k == k, p.metric == metric, p.count == n else {
                throw ANNError.badData(source: name, message: "\(p.count) queries of k \(p.k) for \(p.metric.rawValue), the first part \(n) of k \(k) for \(metric.rawValue): not parts of one ground truth")
            }
        }
        let larger = metric != .l2
        var ids = [UInt32](repeating: NeighborList.noID, count: n * k)
        var dists = [Float](repeating: .infinity, count: n * k)
        var cand = [(Float, UInt32)]()
        for q in 0..<n {
            cand.removeAll(keepingCapacity: true)
            for p in parts {
                for j in (q * k)..<((q + 1) * k) where p.ids[j] != NeighborList.noID { cand.append((p.distances[j], p.ids[j])) }
            }
            cand.sort { a, b in a.0 != b.0 ? (larger ? a.0 > b.0 : a.0 < b.0) : a.1 < b.1 }
            for (j, c) in cand.prefix(k).enumerated() {
                dists[q * k + j] = c.0
                ids[q * k + j] = c.1
            }
        }
        return NeighborList(k: k, metric: metric, ids: ids, distances: dists)
    }
}
