import ANNKit
import Foundation
import Testing

/// SPANN's replication (ann-kmeans --replicate, --centroids) and query-time pruning
/// (ann-query and ann-eval sweep --prune) on siftsmall in 64 clusters.
@Suite struct ReplicationCLITests {
    static let k = 64

    /// Centroids (native, so they record the metric) and the plain assignment from training,
    /// at the top of the scratch directory.
    func clustered(_ s: Scratch, metric: Metric = .l2) throws -> (base: String, centroids: String, plain: String) {
        let base = try s.sample("siftsmall_base.fvecs")
        try s.setup("ann-kmeans", ["-k", "\(Self.k)", "--iters", "6", "--metric", metric.rawValue, "--assignments", s.path("a.anna"),
                                   "-o", s.path("c.annv"), base])
        return (base, s.path("c.annv"), s.path("a.anna"))
    }

    /// Per vector, its clusters in the assignment's order.
    func lists(_ a: Assignment, vectors n: Int) -> [[UInt32]] {
        var out = [[UInt32]](repeating: [], count: n)
        for i in 0..<a.pairCount { out[Int(a.vectors[i])].append(a.clusters[i]) }
        return out
    }

    /// Every vector keeps the cluster the plain assignment gives it, first, and may gain up to
    /// seven more: over one per vector on average (few on siftsmall: its clusters are close
    /// together against their spread, and the RNG rule keeps most vectors home). --centroids alone reproduces the plain
    /// assignment, the metric coming from the centroids' header.
    @Test(arguments: [Metric.l2, .cos])
    func replicatedAssignmentKeepsTheHomeCluster(_ metric: Metric) throws {
        let s = try Scratch()
        let f = try clustered(s, metric: metric)
        let r = try s.run("ann-kmeans", ["--centroids", f.centroids, "--replicate", "--assignments", s.output("r.ivecs"), "-v", f.base])
        #expect(r.exited && r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        let said = r.stderr.split(separator: "\n").first { $0.contains("clusters per vector") }
        #expect(said?.hasPrefix("ann-kmeans: replicated 10000 vectors (R 8, epsilon 0.1): ") == true, "\(r.stderr)")
        #expect(r.stderr.contains("cluster sizes min "), "\(r.stderr)")

        let plain = try Assignment.load(f.plain)
        let replicated = try Assignment.load(s.output("r.ivecs"), clusterCount: Self.k)
        #expect(plain.pairCount == 10_000)
        let per = lists(replicated, vectors: 10_000)
        #expect(per.allSatisfy { !$0.isEmpty && $0.count <= 8 && Set($0).count == $0.count })
        #expect(per.map { $0[0] } == plain.clusters)
        let copies = Double(replicated.pairCount) / 10_000
        #expect(copies > 1.002 && copies < 1.5, "\(copies) clusters per vector")
        // The figure -v gives.
        #expect(said?.contains(String(format: "%.3f clusters per vector", copies)) == true, "\(String(describing: said))")

        // The native form holds the same pairs as .ivecs, whose records are of several clusters.
        expectSuccess(try s.run("ann-kmeans", ["--centroids", f.centroids, "--replicate", "--assignments", s.output("r.anna"), f.base]))
        let native = try Assignment.load(s.output("r.anna"))
        #expect(native.vectors == replicated.vectors && native.clusters == replicated.clusters && native.clusterCount == Self.k)
        #expect(try readBytes(s.output("r.ivecs")).count == 4 * (10_000 + replicated.pairCount))

        // Without --replicate: the assignment training wrote, from stdin too.
        expectSuccess(try s.run("ann-kmeans", ["--centroids", f.centroids, "--assignments", s.output("p.anna"), "-k", "\(Self.k)", f.base]))
        #expect(try readBytes(s.output("p.anna")) == readBytes(f.plain))
        expectSuccess(try s.run("ann-kmeans", ["--centroids", f.centroids, "--assignments", s.output("p2.anna"), "--from", "fvecs"], stdin: f.base))
        #expect(try readBytes(s.output("p2.anna")) == readBytes(f.plain))
    }

    /// --replicate right after training gives what --centroids gives with those centroids,
    /// with and without a sample (memory or a second pass); R and ε are honoured.
    @Test func replicateAfterTraining() throws {
        let s = try Scratch()
        let f = try clustered(s)
        for (name, extra) in [("all", [String]()), ("sampled", ["--sample", "4000"])] {
            let c = s.output("\(name).annv")
            expectSuccess(try s.run("ann-kmeans", ["-k", "\(Self.k)", "--iters", "6", "--replicate", "--replicas", "2", "--epsilon", "0.3",
                                                   "--assignments", s.output("\(name).anna"), "-o", c] + extra + [f.base]))
            expectSuccess(try s.run("ann-kmeans", ["--centroids", c, "--replicate", "--replicas", "2", "--epsilon", "0.3",
                                                   "--assignments", s.output("\(name).again.anna"), f.base]))
            let a = try Assignment.load(s.output("\(name).anna")), b = try Assignment.load(s.output("\(name).again.anna"))
            #expect(a.vectors == b.vectors && a.clusters == b.clusters, "\(name)")
            let per = lists(a, vectors: 10_000)
            #expect(per.allSatisfy { $0.count <= 2 }, "\(name)")
            #expect(per.contains { $0.count == 2 }, "\(name)")
        }
        // A wider closure replicates more.
        expectSuccess(try s.run("ann-kmeans", ["--centroids", f.centroids, "--replicate", "--epsilon", "0", "--assignments", s.output("e0.anna"), f.base]))
        expectSuccess(try s.run("ann-kmeans", ["--centroids", f.centroids, "--replicate", "--epsilon", "0.3", "--assignments", s.output("e3.anna"), f.base]))
        let e0 = try Assignment.load(s.output("e0.anna")), e3 = try Assignment.load(s.output("e3.anna"))
        #expect(e0.pairCount == 10_000)
        #expect(e3.pairCount > (try Assignment.load(s.path("a.anna"))).pairCount)
    }

    /// The replicated index searched whole is the exact search (a vector in several clusters
    /// is returned once); with few clusters fetched it finds at least what the plain index
    /// finds, since each of its clusters holds the plain cluster and more.
    @Test func replicatedIndexIsExactWholeAndNoWorseAtSmallNprobe() throws {
        let s = try Scratch()
        let f = try clustered(s)
        let queries = try s.sample("siftsmall_query.fvecs")
        try s.setup("ann-kmeans", ["--centroids", f.centroids, "--replicate", "--assignments", s.path("r.ivecs"), f.base])
        try s.setup("ann-pack", ["--centroids", f.centroids, "--assignments", s.path("r.ivecs"), "-o", s.path("r.anni"), f.base])
        try s.setup("ann-pack", ["--centroids", f.centroids, "--assignments", f.plain, "-o", s.path("p.anni"), f.base])
        #expect(try PackedIndex(path: s.path("r.anni")).vectorCount == 10_000)

        expectSuccess(try s.run("ann-query", ["--index", s.path("r.anni"), "--nprobe", "\(Self.k)", "-k", "10", "-o", s.output("all.annn"), queries]))
        let all = try NeighborList.load(s.output("all.annn"))
        let truth = try NeighborList.load(try s.groundTruth(queries, k: 10))
        #expect(all.ids == truth.ids)
        #expect(all.distances == truth.distances)
        for q in 0..<all.count { #expect(Set(all.row(q)).count == 10, "query \(q)") }

        let gt = try s.groundTruth(queries, k: 100, name: "gt100.annn")
        var curves = [RecallCurve]()
        for name in ["p", "r"] {
            expectSuccess(try s.run("ann-eval", ["sweep", "--index", s.path("\(name).anni"), "--gt", gt, "--nprobe", "1,2,3,4",
                                                 "-q", "-o", s.output("\(name).tsv"), queries]))
            curves.append(try RecallCurve.parse(String(decoding: try readBytes(s.output("\(name).tsv")), as: UTF8.self), source: name))
        }
        let (plain, replicated) = (curves[0], curves[1])
        #expect(plain.points.count == 4 && replicated.points.count == 4)
        for (p, r) in zip(plain.points, replicated.points) {
            #expect(r.recall1 >= p.recall1, "\(p.setting): \(r.recall1) against \(p.recall1)")
            let (r10, p10) = (try #require(r.recall10), try #require(p.recall10))
            #expect(r10 >= p10, "\(p.setting)")
            #expect(r.vectors > p.vectors && r.clusters == p.clusters, "\(p.setting)")
        }
    }

    /// --prune: fewer clusters fetched per query, never more, the first always; a wide bound
    /// changes nothing.
    @Test func pruneCutsTheFetch() throws {
        let s = try Scratch()
        let f = try clustered(s)
        let queries = try s.sample("siftsmall_query.fvecs")
        try s.setup("ann-pack", ["--centroids", f.centroids, "--assignments", f.plain, "-o", s.path("p.anni"), f.base])
        let index = s.path("p.anni")
        func query(_ name: String, _ extra: [String]) throws -> (NeighborList, StatsFile) {
            expectSuccess(try s.run("ann-query", ["--index", index, "--nprobe", "6", "--stats", s.output("\(name).tsv"),
                                                  "-o", s.output("\(name).annn")] + extra + [queries]))
            return (try NeighborList.load(s.output("\(name).annn")), try StatsFile(s.output("\(name).tsv")))
        }
        let (plain, plainStats) = try query("plain", [])
        let (wide, wideStats) = try query("wide", ["--prune", "1000"])
        #expect(wide.ids == plain.ids && wideStats.column("vectors") == plainStats.column("vectors"))
        let (_, tight) = try query("tight", ["--prune", "0"])
        #expect(tight.column("clusters").allSatisfy { $0 == 1 })
        let (_, some) = try query("some", ["--prune", "0.1"])
        let clusters = some.column("clusters")
        #expect(clusters.allSatisfy { $0 >= 1 && $0 <= 6 })
        #expect(clusters.contains { $0 < 6 } && clusters.contains { $0 > 1 }, "\(clusters)")
        #expect(zip(some.column("vectors"), plainStats.column("vectors")).allSatisfy { $0 <= $1 })

        // The sweep reports the pruned fetch.
        let gt = try s.groundTruth(queries, k: 10)
        var curves = [RecallCurve]()
        for (name, extra) in [("none", [String]()), ("pruned", ["--prune", "0.1"])] {
            expectSuccess(try s.run("ann-eval", ["sweep", "--index", index, "--gt", gt, "--nprobe", "1,6,64",
                                                 "-q", "-o", s.output("\(name).curve")] + extra + [queries]))
            curves.append(try RecallCurve.parse(String(decoding: try readBytes(s.output("\(name).curve")), as: UTF8.self), source: name))
        }
        let (none, pruned) = (curves[0].points, curves[1].points)
        #expect(none[0].vectors == pruned[0].vectors && none[0].recall1 == pruned[0].recall1)
        #expect(abs(pruned[1].clusters - Double(clusters.reduce(0, +)) / 100) < 0.006)
        #expect(pruned[2].vectors < none[2].vectors && pruned[2].clusters < 64)
    }

    @Test func errors() throws {
        let s = try Scratch()
        let f = try clustered(s)
        let out = s.output("a.anna")
        // Centroids of another dimension.
        try s.write(Encode.fvecs([Float](repeating: 1, count: 4 * 3), dim: 3), to: "c3.fvecs")
        try expectFailure(try s.run("ann-kmeans", ["--centroids", s.path("c3.fvecs"), "--replicate", "--assignments", out, f.base]),
                          tool: "ann-kmeans", status: 65, mentioning: ["siftsmall_base.fvecs", "dimension 128", "centroids' 3"], scratch: s)
        // -k must agree with the centroids.
        try expectFailure(try s.run("ann-kmeans", ["--centroids", f.centroids, "-k", "63", "--assignments", out, f.base]),
                          tool: "ann-kmeans", status: 64, mentioning: ["-k (63)", "64 centroids"], scratch: s)
        // The centroids record their metric.
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "2", "--metric", "ip", "-o", s.path("ip.annv"), f.base])
        try expectFailure(try s.run("ann-kmeans", ["--centroids", s.path("ip.annv"), "--metric", "l2", "--assignments", out, f.base]),
                          tool: "ann-kmeans", status: 64, mentioning: ["--metric ip"], scratch: s)
        try expectFailure(try s.run("ann-kmeans", ["--centroids", s.path("missing.fvecs"), "--assignments", out, f.base]),
                          tool: "ann-kmeans", status: 66, mentioning: ["missing.fvecs"], scratch: s)
        try expectFailure(try s.run("ann-kmeans", ["--centroids", f.plain, "--assignments", out, f.base]),
                          tool: "ann-kmeans", status: 65, scratch: s)
        try expectFailure(try s.run("ann-kmeans", ["--epsilon", "0.2", "-k", "8", "--assignments", out, "-o", s.output("c.fvecs"), f.base]),
                          tool: "ann-kmeans", status: 64, mentioning: ["--epsilon needs --replicate"], scratch: s)
        try expectFailure(try s.run("ann-query", ["--index", s.path("i.anni"), "--model", s.path("m.annm"), "--prune", "0.1", f.base]),
                          tool: "ann-query", status: 64, mentioning: ["--prune and --model"], scratch: s)
        try expectFailure(try s.run("ann-eval", ["sweep", "--index", s.path("i.anni"), "--gt", s.path("gt.annn"), "--model", s.path("m.annm"),
                                                 "--prune", "0.1", f.base]),
                          tool: "ann-eval", status: 64, mentioning: ["--prune and --model"], scratch: s)
    }
}
