/// A stream of queries answered batch by batch: up to `batch` queries are read, searched
/// together (each needed cluster fetched once for the batch) and handed on in order, until the
/// stream ends (ann-query). Nothing of a batch is kept once it is handed on, so a stream of any
/// length runs in the memory of one batch.
public enum BatchSearch {
    /// Answers every query of `queries` with its `k` nearest under `parameters`, handing each
    /// batch's neighbours and per-query figures to `answer` as soon as the batch is done. Before
    /// each batch the memory its results need is checked (`MemoryLimit`), named by `describe(n)`
    /// for a batch of n queries. Returns the number of queries answered.
    @discardableResult
    public static func run(engine: QueryEngine, queries: VectorReader, k: Int, batch: Int, parameters: SearchParameters,
                           describe: (Int) -> String,
                           answer: (NeighborList, [QueryEngine.QueryStats]) throws -> Void) throws -> Int {
        let d = engine.index.dim
        var answered = 0
        // A batch grows with the queries that arrive: `batch` bounds it and never sizes a buffer.
        let chunk = queries.blockRecords(preferred: min(batch, 4096))
        var buf = [Float](repeating: 0, count: chunk * d)
        var group = [Float]()
        var ended = false
        while !ended {
            group.removeAll(keepingCapacity: true)
            var n = 0
            while n < batch {
                let got = try buf.withUnsafeMutableBufferPointer { try queries.read(into: $0.baseAddress!, maxCount: min(chunk, batch - n)) }
                if got == 0 { ended = true; break }
                group.append(contentsOf: buf[0..<(got * d)])
                n += got
            }
            if n == 0 { break }
            // Each worker keeps k neighbours (id and distance) for every query of the batch.
            try MemoryLimit.check(count: n * k * (engine.threads + 1), size: 8, for: describe(n))
            let (list, stats) = try engine.search(queries: group, k: k, parameters: parameters)
            answered += n
            try answer(list, stats)
        }
        return answered
    }
}
