/// A stream of queries answered batch by batch: up to `batch` queries are read, searched
/// together (each needed cluster fetched once for the batch) and their answers kept in order,
/// until the stream ends (ann-query).
public enum BatchSearch {
    /// The neighbours and per-query figures of every query, in the order they were read.
    public struct Answers {
        public var ids: [UInt32] = []
        public var distances: [Float] = []
        public var stats: [QueryEngine.QueryStats] = []
    }

    /// Answers every query of `queries` with its `k` nearest under `parameters`. Before each
    /// batch the memory its results need is checked (`MemoryLimit`), named by `describe(n)` for
    /// a batch of n queries. `progress` hears the queries answered so far.
    public static func run(engine: QueryEngine, queries: VectorReader, k: Int, batch: Int, parameters: SearchParameters,
                           describe: (Int) -> String, progress: (Int) -> Void = { _ in }) throws -> Answers {
        let d = engine.index.dim
        var answers = Answers()
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
            let (list, st) = try engine.search(queries: group, k: k, parameters: parameters)
            answers.ids += list.ids
            answers.distances += list.distances
            answers.stats += st
            progress(answers.stats.count)
        }
        return answers
    }
}
