import Dispatch
import Synchronization

/// The two ways the library spreads work over threads: a fixed split (`forEach`), and a queue
/// handing out items one at a time (`queue`).
///
/// Threading: the bodies run on several threads at once. They may capture pointers and
/// non-Sendable values, which the compiler cannot check, so every caller keeps one rule: an
/// iteration writes only memory that no other iteration reads or writes, and anything shared
/// goes through a `Mutex` or an `Atomic`.
public enum Parallel {
    /// Runs `body(i)` for every i in `0..<iterations` on Dispatch's worker threads (as many as
    /// there are cores) and returns when all have run.
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            // Unchecked: callers keep the rule above, and concurrentPerform returns only after every iteration.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: iterations) { body($0) }
        }
    }

    /// Hands items `0..<count` to `workers` workers, each taking the next item when it has
    /// finished one, so items of unequal cost balance out. `body(item, worker, &scratch)` gets
    /// the worker's number (0..<workers) and its own scratch, made by `scratch()`. `progress`
    /// hears the items finished so far from worker 0 alone, so it need not be thread-safe. The
    /// first error `body` throws stops the handing out and is rethrown once every worker is
    /// done; the items other workers had already taken still finish.
    public static func queue<Scratch>(items count: Int, workers: Int, scratch: () -> Scratch,
                                      progress: (Int) -> Void = { _ in },
                                      _ body: (_ item: Int, _ worker: Int, _ scratch: inout Scratch) throws -> Void) throws {
        let next = Atomic<Int>(0), finished = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        forEach(max(1, workers)) { w in
            var mine = scratch()
            while true {
                let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard item < count, failure.withLock({ $0 == nil }) else { break }
                do {
                    try body(item, w, &mine)
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                    break
                }
                let done = finished.wrappingAdd(1, ordering: .relaxed).newValue
                if w == 0 { progress(done) }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// `queue` for workers that need no scratch of their own.
    public static func queue(items count: Int, workers: Int, progress: (Int) -> Void = { _ in },
                             _ body: (_ item: Int, _ worker: Int) throws -> Void) throws {
        try queue(items: count, workers: workers, scratch: {}, progress: progress) { item, worker, _ in try body(item, worker) }
    }
}
