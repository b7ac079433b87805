import ANNKit
import Glibc
import Synchronization
import Testing

@Suite struct ParallelTests {
    @Test func forEachRunsEveryIterationOnce() {
        let runs = Mutex([Int](repeating: 0, count: 1000))
        Parallel.forEach(1000) { i in runs.withLock { $0[i] += 1 } }
        #expect(runs.withLock { $0 } == [Int](repeating: 1, count: 1000))
    }

    @Test(arguments: [0, 1, 3, 64])
    func queueRunsEveryItemOnce(items: Int) throws {
        let runs = Mutex([Int](repeating: 0, count: items))
        let workers = Mutex(Set<Int>())
        try Parallel.queue(items: items, workers: 4) { i, w in
            runs.withLock { $0[i] += 1 }
            workers.withLock { _ = $0.insert(w) }
        }
        #expect(runs.withLock { $0 } == [Int](repeating: 1, count: items))
        #expect(workers.withLock { $0.isSubset(of: 0..<4) })
    }

    /// Each worker's scratch is its own: a worker never sees another's.
    @Test func queueGivesEachWorkerItsScratch() throws {
        let mixed = Atomic(0)
        try Parallel.queue(items: 200, workers: 3, scratch: { -1 }) { _, w, owner in
            if owner == -1 { owner = w }
            if owner != w { mixed.wrappingAdd(1, ordering: .relaxed) }
        }
        #expect(mixed.load(ordering: .relaxed) == 0)
    }

    /// The first error stops the handing out and is the one thrown.
    @Test func queueStopsAtTheFirstError() {
        struct Stop: Error { let item: Int }
        let started = Atomic(0)
        var thrown: Int?
        do {
            try Parallel.queue(items: 1000, workers: 1) { i, _ in
                started.wrappingAdd(1, ordering: .relaxed)
                if i == 10 { throw Stop(item: i) }
            }
        } catch let stop as Stop {
            thrown = stop.item
        } catch {}
        #expect(thrown == 10)
        #expect(started.load(ordering: .relaxed) == 11)
    }

    /// Progress counts up, from one thread alone, so a display need not be thread-safe.
    @Test func queueReportsProgressFromOneThread() throws {
        let seen = Mutex((threads: Set<UInt>(), counts: [Int]()))
        try Parallel.queue(items: 500, workers: 4, progress: { done in
            seen.withLock { $0.threads.insert(UInt(pthread_self())); $0.counts.append(done) }
        }) { _, _ in usleep(100) }
        let (threads, counts) = seen.withLock { ($0.threads, $0.counts) }
        #expect(threads.count == 1)
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $0 < $1 })
        #expect(counts.allSatisfy { $0 >= 1 && $0 <= 500 })
    }

    @Test func coresIsPositive() {
        #expect(Machine.cores >= 1)
    }
}
