import ANNKit
import Testing

/// Recall against ground truth: ids or distances no worse count as hits, padding never does.
@Suite struct RecallTests {
    func list(_ rows: [[(UInt32, Float)]], metric: Metric = .l2) -> NeighborList {
        NeighborList(k: rows[0].count, metric: metric, ids: rows.flatMap { $0.map(\.0) }, distances: rows.flatMap { $0.map(\.1) })
    }

    @Test func recallAt1CountsTiesAsHits() throws {
        let truth = list([[(7, 1)], [(8, 4)], [(9, 2)], [(10, 3)]])
        let results = list([
            [(7, 1)],                   // the true id
            [(99, 4)],                  // another id at the same distance: a tie, a hit
            [(98, 2.5)],                // farther: a miss
            [(NeighborList.noID, -1)],  // padding: never a hit, whatever its distance
        ])
        let r = try Recall(results: results, truth: truth)
        #expect(r.queries == 4)
        #expect(r.at1 == 0.5)
    }

    /// For similarities larger is nearer: no smaller is a hit.
    @Test func similarityMetricsCompareTheOtherWay() throws {
        let truth = list([[(1, 10)], [(2, 10)], [(3, 10)]], metric: .ip)
        let results = list([[(5, 10)], [(6, 11)], [(7, 9)]], metric: .ip)
        #expect(try Recall(results: results, truth: truth).at1 == 2.0 / 3.0)
    }

    /// Without distances (ids-only files read as NaN) only equal ids count.
    @Test func withoutDistancesOnlyIdsCount() throws {
        let truth = list([[(1, .nan)], [(2, .nan)]])
        let results = list([[(1, .nan)], [(3, .nan)]])
        #expect(try Recall(results: results, truth: truth).at1 == 0.5)
    }

    /// 10-recall@10: ids among the true 10, or distances no worse than the true 10th, at most
    /// 10 per query.
    @Test func recallAt10() throws {
        let truthRow = (0..<10).map { (UInt32($0), Float($0)) }
        let truth = list([truthRow, truthRow])
        // Query 0: ids 0...4, then 5 others tied with the 10th (hits), none of them farther.
        // Query 1: ids 0...5, then 4 farther ones (misses).
        let q0 = (0..<5).map { (UInt32($0), Float($0)) } + (0..<5).map { (UInt32(100 + $0), Float(9)) }
        let q1 = (0..<6).map { (UInt32($0), Float($0)) } + (0..<4).map { (UInt32(200 + $0), Float(9.5)) }
        let r = try Recall(results: list([q0, q1]), truth: truth)
        #expect(r.at10 == 16.0 / 20.0)
        #expect(r.at1 == 1)
        // Results of k = 1 see one of the ten at most.
        let one = try Recall(results: list([[(0, 0)], [(0, 0)]]), truth: truth)
        #expect(one.at10 == 0.1)
        // Padding stops the count.
        let padded = [(UInt32(0), Float(0))] + (1..<10).map { _ in (NeighborList.noID, Float.infinity) }
        #expect(try Recall(results: list([padded, padded]), truth: truth).at10 == 0.1)
    }

    /// Regression: a ground truth of fewer than 10 neighbours per query used to stand in for
    /// the true 10, so that with k = 1 "recall@10" meant whether the nearest was among the
    /// first 10 results: 1.0 below, where 10-recall@10 is 0.1. recall@10 is one measure or none.
    @Test func recallAt10NeedsTenTrueNeighbours() throws {
        let results = list([(0..<10).map { (UInt32($0), Float($0)) }])
        for k in [1, 3, 9] {
            let truth = list([(0..<k).map { (UInt32($0 * 100), Float($0) * 100) }])
            let r = try Recall(results: results, truth: truth)
            #expect(r.at10 == nil, "k = \(k)")
            #expect(r.at1 == 1, "recall@1 is still given (a tie with the true nearest)")
        }
        // With 10 or more true neighbours, the same results have one recall@10, whatever k.
        let found = (0..<10).map { (UInt32($0), Float($0)) }
        for k in [10, 11, 100] {
            let truth = list([(0..<k).map { (UInt32($0), Float($0)) }])
            #expect(try Recall(results: list([[found[0]] + (1..<10).map { (UInt32(500 + $0), Float(1000)) }]), truth: truth).at10 == 0.1, "k = \(k)")
            #expect(try Recall(results: list([found]), truth: truth).at10 == 1, "k = \(k)")
        }
    }

    @Test func refusesMismatches() {
        let truth = list([[(1, 1)], [(2, 2)]])
        let fewer = annError { _ = try Recall(results: list([[(1, 1)]]), truth: truth, source: "r.annn") }
        #expect(fewer?.exitCode == 65)
        #expect(fewer?.description.contains("r.annn: 1 queries, the ground truth has 2") == true)
        let other = annError { _ = try Recall(results: list([[(1, 1)], [(2, 2)]], metric: .cos), truth: truth) }
        #expect(other?.exitCode == 65)
    }
}
