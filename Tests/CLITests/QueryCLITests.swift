import ANNKit
import Foundation
import Testing

/// ann-query on siftsmall packed in 16 k-means clusters: exact with every cluster fetched,
/// and per-query figures that add up to the clusters each query chose.
@Suite struct QueryCLITests {
    /// Every cluster fetched is the exact search: what ann-groundtruth finds, ids and distances.
    @Test(arguments: [Metric.l2, .ip, .cos])
    func allClustersIsTheGroundTruth(_ metric: Metric) throws {
        let s = try Scratch()
        let f = try s.siftIndex(metric: metric)
        let r = try s.run("ann-query", ["--index", f.index, "--nprobe", "16", "-k", "10", "-o", s.output("r.annn"), f.queries])
        expectSuccess(r)
        #expect(r.stdout.isEmpty)
        let results = try NeighborList.load(s.output("r.annn"))
        let truth = try NeighborList.load(try s.groundTruth(f.queries, k: 10, metric: metric))
        #expect(results.metric == metric && results.k == 10 && results.count == 100)
        #expect(results.ids == truth.ids)
        #expect(results.distances == truth.distances)
        // --nprobe beyond K fetches them all too.
        expectSuccess(try s.run("ann-query", ["--index", f.index, "--nprobe", "1000", "-k", "10", "-o", s.output("r2.annn"), f.queries]))
        #expect(try readBytes(s.output("r2.annn")) == readBytes(s.output("r.annn")))
    }

    /// Centroid ranking of the clusters, in double precision; nil where the last cluster
    /// taken and the next are too close to call.
    static func chosen(_ q: ArraySlice<Float>, _ idx: PackedIndex, nprobe: Int) -> [Int]? {
        let d = (0..<idx.clusterCount).map { c in
            zip(q, idx.centroids[(c * 128)..<((c + 1) * 128)]).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
        }
        let order = d.indices.sorted { d[$0] < d[$1] }
        if nprobe < order.count && d[order[nprobe]] - d[order[nprobe - 1]] < 1e-4 * d[order[nprobe]] { return nil }
        return Array(order.prefix(nprobe))
    }

    @Test func fewerClustersWithStats() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        expectSuccess(try s.run("ann-query", ["--index", f.index, "--nprobe", "2", "-k", "10", "--stats", s.output("s.tsv"),
                                              "-o", s.output("r.annn"), f.queries]))
        let results = try NeighborList.load(s.output("r.annn"))
        let truth = try NeighborList.load(try s.groundTruth(f.queries, k: 10))
        let recall = recount(results, truth)
        #expect(recall.at1 <= 1 && recall.at1 > 0.5, "\(recall)")

        let stats = try StatsFile(s.output("s.tsv"))
        #expect(stats.header == ["query", "clusters", "vectors", "bytes", "requests", "micros"])
        #expect(stats.rows.count == 100 && stats.rows.allSatisfy { $0.count == 6 })
        // A local file reads each cluster with its own pread.
        #expect(stats.column("requests") == stats.column("clusters"))
        #expect(stats.column("query") == Array(0..<100))
        #expect(stats.column("clusters").allSatisfy { $0 == 2 })
        #expect(stats.column("micros").allSatisfy { $0 >= 0 })
        let idx = try PackedIndex(path: f.index)
        let m = members(try Assignment.load(f.assignments))
        let q = try SampleData.vectors("siftsmall_query.fvecs").values
        var checked = 0
        for i in 0..<100 {
            guard let c = Self.chosen(q.row(i, 128), idx, nprobe: 2) else { continue }
            checked += 1
            #expect(stats.rows[i][2] == c.reduce(0) { $0 + m[$1].count }, "query \(i): vectors")
            #expect(stats.rows[i][3] == c.reduce(0) { $0 + idx.entries[$1].size }, "query \(i): bytes")
            // Every answer comes from a chosen cluster.
            #expect(results.row(i).allSatisfy { id in c.contains { m[$0].contains(id) } }, "query \(i)")
        }
        #expect(checked > 90)
    }

    /// --budget: at least one cluster, and at least the budget unless every cluster was taken.
    @Test(arguments: [1, 700, 3000, 20_000])
    func budget(_ v: Int) throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        expectSuccess(try s.run("ann-query", ["--index", f.index, "--budget", "\(v)", "--stats", s.output("s.tsv"),
                                              "-o", s.output("r.annn"), f.queries]))
        let stats = try StatsFile(s.output("s.tsv"))
        #expect(stats.rows.count == 100)
        let sizes = members(try Assignment.load(f.assignments)).map(\.count)
        for row in stats.rows {
            let (clusters, vectors) = (row[1], row[2])
            #expect(clusters >= 1)
            #expect(vectors >= v || clusters == 16, "\(row)")
            // Without its last cluster a query would be short of the budget: nothing is taken beyond it.
            #expect(vectors - sizes.max()! < v || clusters == 1, "\(row)")
        }
        if v == 1 { #expect(stats.column("clusters").allSatisfy { $0 == 1 }) }
        if v > 10_000 {
            #expect(stats.column("vectors").allSatisfy { $0 == 10_000 })
            #expect(try NeighborList.load(s.output("r.annn")).ids == NeighborList.load(try s.groundTruth(f.queries, k: 10)).ids)
        }
    }

    /// Every vector in two clusters (an assignment made by hand): each is answered once.
    @Test func duplicatesAreReturnedOnce() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        try s.write(twoClustersEach(try Assignment.load(f.assignments)), to: "two.ivecs")
        try s.setup("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", "two.ivecs", "-o", s.path("two.anni"), f.base])
        expectSuccess(try s.run("ann-query", ["--index", "two.anni", "--nprobe", "16", "-k", "20", "--stats", s.output("all.tsv"),
                                              "-o", s.output("all.annn"), f.queries]))
        let all = try NeighborList.load(s.output("all.annn"))
        #expect(all.ids == (try NeighborList.load(try s.groundTruth(f.queries, k: 20))).ids)
        #expect(try StatsFile(s.output("all.tsv")).column("vectors").allSatisfy { $0 == 20_000 })
        expectSuccess(try s.run("ann-query", ["--index", "two.anni", "--nprobe", "3", "-k", "20", "-o", s.output("three.annn"), f.queries]))
        let three = try NeighborList.load(s.output("three.annn"))
        for i in 0..<100 {
            #expect(Set(three.row(i)).count == 20, "query \(i): \(Array(three.row(i)))")
        }
    }

    /// The result depends only on what was fetched: not on the batch size nor the threads.
    @Test func resultDoesNotDependOnBatchOrThreads() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        expectSuccess(try s.run("ann-query", ["--index", f.index, "--nprobe", "3", "-o", s.output("a.annn"), f.queries]))
        expectSuccess(try s.run("ann-query", ["--index", f.index, "--nprobe", "3", "--batch", "7", "--threads", "1", "--drop-cache",
                                              "-o", s.output("b.annn"), f.queries]))
        #expect(try readBytes(s.output("a.annn")) == readBytes(s.output("b.annn")))
    }

    /// Queries from stdin and compressed; ids and distances as foreign forms.
    @Test func inputAndOutputForms() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let common = ["--index", f.index, "--nprobe", "4", "-k", "5"]
        expectSuccess(try s.run("ann-query", common + ["-o", s.output("r.annn"), f.queries]))
        let list = try NeighborList.load(s.output("r.annn"))
        expectSuccess(try s.run("ann-query", common + ["-o", s.output("r.ivecs"), "--from", "fvecs"], stdin: f.queries))
        #expect(try NeighborList.load(s.output("r.ivecs")).ids == list.ids)
        expectSuccess(try s.run("ann-query", common + ["-o", s.output("r.fvecs"), "\(Package.data)/siftsmall_query.fvecs.zst"]))
        #expect(try VectorReader(path: s.output("r.fvecs")).readAll() == list.distances)
        let stdout = try s.run("ann-query", common + ["--to", "ibin", f.queries])
        expectSuccess(stdout)
        #expect(stdout.stdout.count == 8 + 100 * 5 * 4)
        try writeBytes(stdout.stdout, to: s.output("r.ibin"))
        #expect(try NeighborList.load(s.output("r.ibin")).ids == list.ids)
    }
}
