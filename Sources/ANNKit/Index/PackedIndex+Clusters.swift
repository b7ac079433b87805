extension PackedIndex {
    /// Fetches every cluster once on `threads` workers, each taking the next cluster when it is
    /// done with one, and runs `body(c, n, buffers, &scratch)` on it: `buffers` hold cluster c's
    /// `n` vectors, `scratch` is the worker's own, made by `scratch()`. `progress` hears the
    /// clusters done from the first worker alone, so a caller's progress display need not be
    /// thread-safe. The first error, a fetch's or the body's, stops the workers and is thrown.
    /// From a store that reads concurrently (a remote one) the frames come in waves of at most
    /// `waveBytes`, each one batch of requests, rather than one request per cluster.
    public func forEachCluster<Scratch>(threads: Int, scratch: () -> Scratch, progress: (Int) -> Void = { _ in },
                                        _ body: (Int, Int, ClusterBuffers, inout Scratch) throws -> Void) throws {
        guard storage.readsConcurrently else {
            try Parallel.queue(items: clusterCount, workers: threads, scratch: { (buffers: ClusterBuffers(), scratch: scratch()) },
                               progress: progress) { c, _, mine in
                let buffers = mine.buffers
                try body(c, try fetch(c, into: buffers), buffers, &mine.scratch)
            }
            return
        }
        var done = 0
        for window in waves(of: Array(0..<clusterCount)) {
            let frames = try readFrames(window)
            let base = done
            try Parallel.queue(items: window.count, workers: threads, scratch: { (buffers: ClusterBuffers(), scratch: scratch()) },
                               progress: { progress(base + $0) }) { item, _, mine in
                let buffers = mine.buffers
                try body(window[item], try decode(window[item], frame: frames.frame(item), into: buffers), buffers, &mine.scratch)
            }
            done += window.count
        }
    }

    /// `forEachCluster` for a body that needs no scratch of its own.
    public func forEachCluster(threads: Int, progress: (Int) -> Void = { _ in },
                               _ body: (Int, Int, ClusterBuffers) throws -> Void) throws {
        try forEachCluster(threads: threads, scratch: {}, progress: progress) { c, n, buffers, _ in try body(c, n, buffers) }
    }
}
