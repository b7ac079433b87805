import ANNKit
import Foundation
import Testing

/// ann-groundtruth on the bundled siftsmall sample, checked against the official ground truth
/// that ships with it.
@Suite struct GroundTruthCLITests {
    /// Our list must be the official one up to the order of equal distances: the same first
    /// neighbour, and at every rank the same exact distance. SIFT values are small integers, so
    /// distances are exact and can be compared for equality.
    static func expectMatchesOfficialGroundTruth(_ ours: NeighborList, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let base = try SampleData.vectors("siftsmall_base.fvecs")
        let queries = try SampleData.vectors("siftsmall_query.fvecs")
        let official = try Scratch().withSample("siftsmall_groundtruth.ivecs") { try NeighborList.load($0) }
        let d = base.dim
        #expect(official.k == 100 && official.count == 100, sourceLocation: sourceLocation)
        #expect(ours.k == 100 && ours.count == 100 && ours.metric == .l2, sourceLocation: sourceLocation)
        guard ours.k == official.k, ours.count == official.count else { return }
        var swapped = 0
        for q in 0..<100 {
            let qv = queries.values.row(q, d)
            let ids = Array(ours.row(q)), dists = Array(ours.rowDistances(q)), theirs = Array(official.row(q))
            #expect(ids[0] == theirs[0], "query \(q): first neighbour", sourceLocation: sourceLocation)
            for j in 0..<100 {
                let theirDistance = Float(squaredDistance(qv, base.values.row(Int(theirs[j]), d)))
                #expect(dists[j] == theirDistance, "query \(q) rank \(j)", sourceLocation: sourceLocation)
                #expect(dists[j] == Float(squaredDistance(qv, base.values.row(Int(ids[j]), d))), "query \(q) rank \(j): reported distance",
                        sourceLocation: sourceLocation)
                if j > 0 {
                    #expect(dists[j - 1] < dists[j] || (dists[j - 1] == dists[j] && ids[j - 1] < ids[j]),
                            "query \(q) rank \(j): order", sourceLocation: sourceLocation)
                }
                if ids[j] != theirs[j] { swapped += 1 }
            }
            #expect(Set(ids).count == 100, sourceLocation: sourceLocation)
        }
        // Only ties may differ, and ties are rare on SIFT.
        #expect(swapped < 100, sourceLocation: sourceLocation)
    }

    @Test func reproducesTheOfficialGroundTruth() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), queries = try s.sample("siftsmall_query.fvecs")
        let r = try s.run("ann-groundtruth", ["--base", base, "-k", "100", "-o", s.output("gt.annn"), queries])
        expectSuccess(r)
        #expect(r.stdout.isEmpty)
        try Self.expectMatchesOfficialGroundTruth(try NeighborList.load(s.output("gt.annn")))
    }

    /// The foreign forms hold the ids (.ivecs, .ibin) or the distances (.fvecs, .fbin) of the
    /// same list, and --to picks the form of stdout.
    @Test func writesEveryOutputForm() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), queries = try s.sample("siftsmall_query.fvecs")
        for name in ["gt.annn", "gt.ivecs", "gt.fvecs", "gt.ibin", "gt.fbin"] {
            expectSuccess(try s.run("ann-groundtruth", ["--base", base, "-k", "10", "-o", s.output(name), queries]))
        }
        let native = try NeighborList.load(s.output("gt.annn"))
        #expect(native.k == 10 && native.count == 100)
        for ids in ["gt.ivecs", "gt.ibin"] {
            let list = try NeighborList.load(s.output(ids))
            #expect(list.k == 10 && list.ids == native.ids, "\(ids)")
        }
        for dists in ["gt.fvecs", "gt.fbin"] {
            let r = try VectorReader(path: s.output(dists))
            #expect(r.dim == 10 && r.count == 100, "\(dists)")
            #expect(try r.readAll() == native.distances, "\(dists)")
        }
        let both = try NeighborList.load(s.output("gt.ivecs"), distances: s.output("gt.fvecs"))
        #expect(both.ids == native.ids && both.distances == native.distances)

        let toStdout = try s.run("ann-groundtruth", ["--base", base, "-k", "10", "--to", "ibin", queries])
        expectSuccess(toStdout)
        #expect(toStdout.stdout == (try readBytes(s.output("gt.ibin"))))
    }

    /// Queries from stdin need --from; the base may be stdin when the queries are a file.
    @Test func readsStdin() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), queries = try s.sample("siftsmall_query.fvecs")
        expectSuccess(try s.run("ann-groundtruth", ["--base", base, "-k", "100", "-o", s.output("a.annn"), "--from", "fvecs"], stdin: queries))
        try Self.expectMatchesOfficialGroundTruth(try NeighborList.load(s.output("a.annn")))
        expectSuccess(try s.run("ann-groundtruth", ["--base", "-", "--base-from", "fvecs", "-k", "100", "-o", s.output("b.annn"), queries],
                                stdin: base))
        let b = try NeighborList.load(s.output("b.annn"))
        #expect(b.ids == (try NeighborList.load(s.output("a.annn"))).ids)
        // Native output on stdout.
        let r = try s.run("ann-groundtruth", ["--base", base, "-k", "5", "--from", "fvecs"], stdin: queries)
        expectSuccess(r)
        try writeBytes(r.stdout, to: s.output("c.annn"))
        #expect(try NeighborList.load(s.output("c.annn")).ids == b.ids.enumerated().filter { $0.offset % 100 < 5 }.map(\.element))
    }

    /// Similarity metrics: stored values descend, and each is the true similarity.
    @Test func innerProductOnUint8Base() throws {
        let s = try Scratch()
        let base = try s.sample("bigann10k_base.bvecs"), queries = try s.sample("siftsmall_query.fvecs")
        expectSuccess(try s.run("ann-groundtruth", ["--base", base, "--metric", "ip", "-k", "10", "-o", s.output("gt.annn"), queries]))
        let list = try NeighborList.load(s.output("gt.annn"))
        #expect(list.metric == .ip && list.k == 10 && list.count == 100)
        let b = try SampleData.vectors("bigann10k_base.bvecs"), q = try SampleData.vectors("siftsmall_query.fvecs")
        for i in 0..<100 {
            let sims = Array(list.rowDistances(i)), ids = Array(list.row(i))
            let all = (0..<(b.values.count / b.dim)).map { zip(q.values.row(i, 128), b.values.row($0, 128)).reduce(0.0) { $0 + Double($1.0 * $1.1) } }
            #expect(Double(sims[0]) == all.max(), "query \(i)")
            for j in 0..<10 {
                #expect(Double(sims[j]) == all[Int(ids[j])], "query \(i) rank \(j)")
                if j > 0 { #expect(sims[j] <= sims[j - 1]) }
            }
        }
    }
}

extension Scratch {
    /// Runs `body` on a decompressed copy of a bundled file.
    func withSample<T>(_ name: String, _ body: (String) throws -> T) throws -> T { try body(try sample(name)) }
}
