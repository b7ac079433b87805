import ANNKit
import Testing

/// Per-query bounded heaps: the k best by (distance, id) whatever the order of arrival.
@Suite struct NeighborHeapsTests {
    /// Candidates with many equal distances, so that the id rule decides often; ids are
    /// distinct, shuffled, and differ between seeds.
    static func candidates(_ n: Int, seed: UInt64) -> [(Float, UInt32)] {
        var rng = RandomGenerator(seed: seed)
        var ids = (0..<n).map { UInt32($0) * 16 + UInt32(seed % 16) }
        ids.shuffle(using: &rng)
        return ids.map { (Float(rng.below(20)), $0) }
    }

    static func best(_ c: [(Float, UInt32)], _ k: Int) -> [(Float, UInt32)] {
        Array(c.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.prefix(k))
    }

    @Test func keepsTheKBestWhateverTheOrder() {
        let k = 7
        let all = Self.candidates(300, seed: 1)
        var rng = RandomGenerator(seed: 2)
        let heaps = NeighborHeaps(count: 3, k: k)
        var shuffled = all
        shuffled.shuffle(using: &rng)
        for (d, id) in all { heaps.offer(0, d, id) }
        for (d, id) in shuffled { heaps.offer(1, d, id) }
        for (d, id) in all.reversed() { heaps.offer(2, d, id) }
        let expected = Self.best(all, k)
        for q in 0..<3 {
            #expect(heaps.size(q) == k)
            #expect(heaps.sorted(q).map(\.distance) == expected.map(\.0), "query \(q)")
            #expect(heaps.sorted(q).map(\.id) == expected.map(\.1), "query \(q)")
            #expect(heaps.bound(q) == expected.last!.0)
        }
    }

    @Test func boundIsInfiniteUntilFull() {
        let heaps = NeighborHeaps(count: 1, k: 3)
        #expect(heaps.bound(0) == .infinity)
        #expect(heaps.offer(0, 5, 1))
        #expect(heaps.offer(0, 2, 2))
        #expect(heaps.bound(0) == .infinity)
        #expect(heaps.offer(0, 9, 3))
        #expect(heaps.bound(0) == 9)
        // Worse than the worst kept: refused; equal distance, larger id: refused; smaller id: kept.
        #expect(!heaps.offer(0, 10, 0))
        #expect(!heaps.offer(0, 9, 4))
        #expect(heaps.offer(0, 9, 0))
        #expect(heaps.sorted(0).map(\.id) == [2, 1, 0])
        #expect(heaps.first(0) != nil)
        heaps.reset()
        #expect(heaps.size(0) == 0 && heaps.first(0) == nil)
    }

    /// A vector stored in two clusters is offered twice and must count once.
    @Test func uniqueOffersCountAnIdOnce() {
        let heaps = NeighborHeaps(count: 2, k: 4)
        for (d, id) in [(Float(1), UInt32(5)), (1, 5), (2, 6), (2, 6), (3, 7)] {
            heaps.offer(0, d, id, unique: true)
            heaps.offer(1, d, id)
        }
        #expect(heaps.sorted(0).map(\.id) == [5, 6, 7])
        #expect(heaps.sorted(1).map(\.id) == [5, 5, 6, 6])
    }

    @Test func mergeIsTheUnionCountedOnce() {
        let k = 6
        let a = Self.candidates(80, seed: 4), b = Self.candidates(80, seed: 5) + Array(a.prefix(30))
        let x = NeighborHeaps(count: 1, k: k), y = NeighborHeaps(count: 1, k: k)
        for (d, id) in a { x.offer(0, d, id, unique: true) }
        for (d, id) in b { y.offer(0, d, id, unique: true) }
        x.merge(y)
        var seen = Set<UInt32>()
        let union = (a + b).filter { seen.insert($0.1).inserted }
        let expected = Self.best(union, k)
        #expect(x.sorted(0).map(\.id) == expected.map(\.1))
        #expect(Set(x.sorted(0).map(\.id)).count == k)
    }

    /// Short rows are padded; similarities are written with their sign flipped back.
    @Test func neighborListPadsAndConvertsDistances() {
        let heaps = NeighborHeaps(count: 2, k: 3)
        heaps.offer(0, -5, 10)
        heaps.offer(0, -7, 11)
        heaps.offer(1, -1, 12)
        let ip = heaps.neighborList(metric: .ip)
        #expect(ip.k == 3 && ip.count == 2 && ip.metric == .ip)
        #expect(Array(ip.row(0)) == [11, 10, NeighborList.noID])
        #expect(Array(ip.rowDistances(0)) == [7, 5, -.infinity])
        #expect(Array(ip.row(1)) == [12, NeighborList.noID, NeighborList.noID])
        let l2 = heaps.neighborList(metric: .l2)
        #expect(Array(l2.rowDistances(1)) == [-1, .infinity, .infinity])
    }

    /// The screen with exact rows (no slack needed) keeps what offering everything keeps.
    @Test func screenEqualsOfferingEveryCandidate() {
        let k = 5, n = 237
        var rng = RandomGenerator(seed: 8)
        let row = (0..<n).map { _ in Float(rng.below(50)) }
        let norms = (0..<n).map { _ in Float(rng.below(3)) }
        let ids = (0..<n).map { UInt32(1000 + $0) }
        let screened = NeighborHeaps(count: 1, k: k), plain = NeighborHeaps(count: 1, k: k)
        let measured = row.withUnsafeBufferPointer { r in
            norms.withUnsafeBufferPointer { nb in
                screened.screen(0, row: r.baseAddress!, norms: nb.baseAddress!, n: n, shift: 0, slack: 0,
                                measure: { row[$0] + norms[$0] }, id: { ids[$0] })
            }
        }
        for j in 0..<n { plain.offer(0, row[j] + norms[j], ids[j]) }
        #expect(screened.sorted(0).map(\.id) == plain.sorted(0).map(\.id))
        #expect(screened.sorted(0).map(\.distance) == plain.sorted(0).map(\.distance))
        // The screen skips what cannot enter.
        #expect(measured >= k && measured < n)
    }
}
