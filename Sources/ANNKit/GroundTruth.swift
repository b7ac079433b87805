/// Exact k nearest neighbours of a query set over a base streamed in blocks: memory is the
/// queries, their heaps and one block, whatever the size of the base.
public enum GroundTruth {
    /// `queries` is `count × dim`. Cos normalises queries and base on the fly.
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
        if metric == .cos { q.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: nq, d: dim) } }
        var block = [Float](repeating: 0, count: blockSize * dim)
        var seen = 0
        let result: NeighborList = try q.withUnsafeBufferPointer { qp in
            let projection = TopKSearch.defaultProjection(queries: qp.baseAddress!, count: nq, dim: dim, metric: metric)
            let search = TopKSearch(queries: qp.baseAddress!, count: nq, dim: dim, k: k, metric: metric, projection: projection)
            while true {
                let n = try block.withUnsafeMutableBufferPointer { try base.read(into: $0.baseAddress!, maxCount: blockSize) }
                if n == 0 { break }
                block.withUnsafeMutableBufferPointer { b in
                    if metric == .cos { Kernels.normalizeRows(b.baseAddress!, n: n, d: dim) }
                    search.add(base: b.baseAddress!, n: n, firstID: seen)
                }
                seen += n
                progress(seen, base.count)
            }
            return search.result()
        }
        guard k <= seen else { throw ANNError.usage("k (\(k)) is larger than the base (\(seen) vectors)") }
        return result
    }
}
