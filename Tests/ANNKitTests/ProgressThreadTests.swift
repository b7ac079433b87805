import ANNKit
import Glibc
import Synchronization
import Testing

/// Progress callbacks reach a caller's display, which is not thread-safe: the library calls
/// each one from a single thread, never from its workers at once.
@Suite struct ProgressThreadTests {
    /// Regression: KernelRouterTrainer.initial called `progress` from both of its workers, into
    /// the command layer's Reporter (a data race). Many clusters (most of them empty, so cheap)
    /// spread the work over both workers.
    @Test func kernelRouterInitialReportsFromOneThread() throws {
        try withTemporaryDirectory { dir in
            let f = try IndexFixture.sift(n: 2000, k: 8, emptyClusters: 700)
            try f.pack(to: "\(dir)/i.anni")
            let idx = try PackedIndex(path: "\(dir)/i.anni")
            let seen = Mutex((calls: [(thread: pthread_t, done: Int)](), inside: 0, overlapped: false))
            _ = try KernelRouterTrainer.initial(for: idx, slots: 4, seed: 1) { done in
                seen.withLock { $0.inside += 1; if $0.inside > 1 { $0.overlapped = true }; $0.calls.append((pthread_self(), done)) }
                usleep(20_000)  // a slow display: the other worker runs on meanwhile
                seen.withLock { $0.inside -= 1 }
            }
            let (calls, overlapped) = seen.withLock { ($0.calls, $0.overlapped) }
            #expect(!calls.isEmpty)
            #expect(!overlapped, "progress entered from two threads at once")
            #expect(Set(calls.map { UInt($0.thread) }).count == 1, "progress called from \(Set(calls.map { UInt($0.thread) }).count) threads")
            #expect(zip(calls, calls.dropFirst()).allSatisfy { $0.done < $1.done })
            #expect(calls.allSatisfy { $0.done >= 1 && $0.done <= idx.clusterCount })
        }
    }
}
