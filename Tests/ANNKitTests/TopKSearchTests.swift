import ANNKit
import Testing

@Suite struct TopKSearchTests {
    /// Fewer base vectors than k: rows are padded with noID and the worst distance.
    @Test(arguments: Metric.allCases)
    func padsShortRows(_ metric: Metric) {
        let queries: [Float] = [1, 0, 0, 1]
        let base: [Float] = [1, 0, 0, 2, 3, 3]
        let list = queries.withUnsafeBufferPointer { q in
            let search = TopKSearch(queries: q.baseAddress!, count: 2, dim: 2, k: 5, metric: metric)
            base.withUnsafeBufferPointer { search.add(base: $0.baseAddress!, n: 3, firstID: 0) }
            return search.result()
        }
        let pad: Float = metric.isSimilarity ? -.infinity : .infinity
        for q in 0..<2 {
            #expect(Array(list.row(q).suffix(2)) == [NeighborList.noID, NeighborList.noID])
            #expect(Array(list.rowDistances(q).suffix(2)) == [pad, pad])
            #expect(Set(list.row(q).prefix(3)) == [0, 1, 2])
        }
        if metric == .l2 {
            #expect(Array(list.row(0)) == [0, 1, 2, NeighborList.noID, NeighborList.noID])
            #expect(Array(list.rowDistances(0).prefix(3)) == [0, 5, 13])
        }
        if metric == .ip {
            // Query (0, 1): similarities 0, 2, 3 — largest first.
            #expect(Array(list.row(1).prefix(3)) == [2, 1, 0])
            #expect(Array(list.rowDistances(1).prefix(3)) == [3, 2, 0])
        }
    }

    /// Blocks carry their first id; equal distances go to the smaller id whichever block it
    /// arrived in, and `reset` forgets everything.
    @Test func idsAcrossBlocksAndTies() {
        let queries: [Float] = [0, 0]
        // Every base vector is at squared distance 1 from the query.
        let first: [Float] = [1, 0, 0, 1]
        let second: [Float] = [-1, 0, 0, -1, 0, 1]
        queries.withUnsafeBufferPointer { q in
            let search = TopKSearch(queries: q.baseAddress!, count: 1, dim: 2, k: 3, metric: .l2)
            for _ in 0..<2 {
                first.withUnsafeBufferPointer { search.add(base: $0.baseAddress!, n: 2, firstID: 10) }
                second.withUnsafeBufferPointer { search.add(base: $0.baseAddress!, n: 3, firstID: 12) }
                let list = search.result()
                #expect(Array(list.row(0)) == [10, 11, 12])
                #expect(Array(list.rowDistances(0)) == [1, 1, 1])
                search.reset()
            }
        }
    }

    @Test func nearestForKOne() {
        let queries: [Float] = [0, 0, 10, 10, 4, 4]
        let base: [Float] = [1, 1, 9, 9, 5, 5]
        var labels = [UInt32](repeating: 99, count: 3)
        var dists = [Float](repeating: -1, count: 3)
        queries.withUnsafeBufferPointer { q in
            let search = TopKSearch(queries: q.baseAddress!, count: 3, dim: 2, k: 1, metric: .l2)
            base.withUnsafeBufferPointer { search.add(base: $0.baseAddress!, n: 3, firstID: 0) }
            search.nearest(into: &labels, distances: &dists)
        }
        #expect(labels == [0, 1, 2])
        #expect(dists == [2, 2, 2])
    }
}
