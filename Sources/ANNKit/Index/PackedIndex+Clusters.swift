import Dispatch

extension PackedIndex {
    /// Fetches every cluster once on `threads` workers, each taking the next cluster when it is
    /// done with one, and runs `body(c, n, buffers, &scratch)` on it: `buffers` hold cluster c's
    /// `n` vectors, `scratch` is the worker's own, made by `scratch()`. `progress` hears the
    /// clusters done from the first worker alone, so a caller's progress display need not be
    /// thread-safe. The first error, a fetch's or the body's, stops the workers and is thrown.
    public func forEachCluster<Scratch>(threads: Int, scratch: () -> Scratch, progress: (Int) -> Void = { _ in },
                                        _ body: (Int, Int, ClusterBuffers, inout Scratch) throws -> Void) throws {
        let k = clusterCount
        let lock = Lock()
        var failure: (any Error)?
        var next = 0, done = 0
        DispatchQueue.concurrentPerform(iterations: max(1, threads)) { w in
            let buffers = ClusterBuffers()
            var mine = scratch()
            while true {
                let c: Int? = lock.withLock {
                    guard failure == nil, next < k else { return nil }
                    next += 1
                    return next - 1
                }
                guard let c else { break }
                do {
                    try body(c, try fetch(c, into: buffers), buffers, &mine)
                } catch {
                    lock.withLock { if failure == nil { failure = error } }
                    break
                }
                let count = lock.withLock { done += 1; return done }
                if w == 0 { progress(count) }
            }
        }
        if let failure { throw failure }
    }

    /// `forEachCluster` for a body that needs no scratch of its own.
    public func forEachCluster(threads: Int, progress: (Int) -> Void = { _ in },
                               _ body: (Int, Int, ClusterBuffers) throws -> Void) throws {
        try forEachCluster(threads: threads, scratch: {}, progress: progress) { c, n, buffers, _ in try body(c, n, buffers) }
    }
}
