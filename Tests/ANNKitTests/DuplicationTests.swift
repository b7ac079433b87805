import ANNKit
import Testing

/// The duplication step: keys the router's top-1 cluster misses are copied into it.
@Suite struct DuplicationTests {
    /// Centroid routing at a calibrated temperature (a residual model before training).
    static func model(_ p: RouterProblem) -> RouterModel {
        var m = p.model(centroidWeight: 1, fingerprint: 0)
        m.centroidWeight = RouterTrainer.calibrate(m, on: p.examples)
        return m
    }

    /// Per example, the cluster the model ranks first.
    static func topOne(_ m: RouterModel, _ ex: RouterExamples) -> [UInt32] {
        rankings(routerScores(m, ex.queries, dim: ex.dim), clusters: m.clusterCount).map { UInt32($0[0]) }
    }

    /// The assignment stays sorted by vector with every home cluster first; it only grows.
    static func expectExtends(_ after: Assignment, _ before: Assignment, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(after.clusterCount == before.clusterCount, sourceLocation: sourceLocation)
        #expect(after.pairCount >= before.pairCount, sourceLocation: sourceLocation)
        #expect(zip(after.vectors, after.vectors.dropFirst()).allSatisfy { $0 <= $1 }, sourceLocation: sourceLocation)
        let old = before.clustersByVector(), new = after.clustersByVector()
        #expect(new.count == old.count, sourceLocation: sourceLocation)
        for v in 0..<min(old.count, new.count) where Array(new[v].prefix(old[v].count)) != old[v] || Set(new[v]).count != new[v].count {
            Issue.record("vector \(v): \(old[v]) became \(new[v])", sourceLocation: sourceLocation)
            break
        }
    }

    /// Every marked pair copied: the model's first choice then holds every training key.
    @Test func fullDuplicationMakesEveryTopOneRight() throws {
        let p = try RouterProblem.get()
        let m = Self.model(p)
        let before = p.index.assignment
        let top = Self.topOne(m, p.examples)
        let wrong = (0..<p.examples.count).filter { !p.examples.positives[$0].contains(top[$0]) }
        #expect(!wrong.isEmpty)
        let (after, r) = Duplication.run(model: m, examples: p.examples, keys: p.keys, assignment: before,
                                         fraction: 1, ranking: .confidence, seed: 1)
        #expect(r.pairs == p.examples.count)
        #expect(r.marked == wrong.count)
        // Queries sharing a key and a wrong cluster need one copy.
        #expect(r.copies == Set(wrong.map { "\(p.keys[$0])/\(top[$0])" }).count)
        #expect(after.pairCount == before.pairCount + r.copies)
        #expect(r.sizesAfter.reduce(0, +) - r.sizesBefore.reduce(0, +) == r.copies)
        Self.expectExtends(after, before)
        let rebuilt = try RouterExamples(queries: p.examples.queries, dim: 128,
                                         truth: NeighborList(k: 1, metric: .l2, ids: p.keys, distances: p.keys.map { _ in 0 }),
                                         assignment: after)
        #expect(RouterTrainer.evaluate(m, rebuilt).accuracy == 1)
    }

    @Test func fractionZeroChangesNothing() throws {
        let p = try RouterProblem.get()
        let before = p.index.assignment
        let (after, r) = Duplication.run(model: Self.model(p), examples: p.examples, keys: p.keys, assignment: before,
                                         fraction: 0, ranking: .margin, seed: 1)
        #expect(r.marked > 0 && r.copies == 0)
        #expect(after.vectors == before.vectors && after.clusters == before.clusters)
    }

    @Test(arguments: [Duplication.Ranking.confidence, .margin, .random])
    func partialDuplicationCopiesAtMostItsShare(_ ranking: Duplication.Ranking) throws {
        let p = try RouterProblem.get()
        let before = p.index.assignment
        let m = Self.model(p)
        let (after, r) = Duplication.run(model: m, examples: p.examples, keys: p.keys, assignment: before,
                                         fraction: 0.3, ranking: ranking, seed: 5)
        #expect(r.copies > 0 && r.copies <= Int((Double(r.marked) * 0.3).rounded()))
        Self.expectExtends(after, before)
        // Each copy went where the model pointed a query whose key it is.
        let top = Self.topOne(m, p.examples)
        let wanted = Set((0..<p.examples.count).map { "\(p.keys[$0])/\(top[$0])" })
        let old = before.clustersByVector(), new = after.clustersByVector()
        for v in 0..<new.count {
            for c in new[v].dropFirst(old[v].count) { #expect(wanted.contains("\(v)/\(c)"), "vector \(v) copied to \(c)") }
        }
        let (again, _) = Duplication.run(model: m, examples: p.examples, keys: p.keys, assignment: before,
                                         fraction: 0.3, ranking: ranking, seed: 5)
        #expect(again.clusters == after.clusters && again.vectors == after.vectors)
    }
}
