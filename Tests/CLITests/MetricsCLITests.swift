import ANNKit
import Foundation
import Testing

/// `--metric ip` and `--metric cos` through the tools without a router on real SIFT vectors,
/// held to a brute force computed here (`MetricData`): ground truth, k-means, packing and
/// querying. The routers, duplication and mismatched metrics: `MetricRouterCLITests`.
@Suite struct MetricsCLITests {
    @Test(arguments: MetricCase.all)
    func groundTruthIsTheBruteForce(_ c: MetricCase) throws {
        let s = try Scratch()
        let data = try MetricData.get(c)
        let f = try s.metricInputs(data)
        let r = try s.run("ann-groundtruth", ["--base", f.base, "-k", "10", "--metric", c.metric.rawValue, "-o", s.output("gt.annn"), f.queries])
        expectSuccess(r)
        expectBruteForce(try NeighborList.load(s.output("gt.annn")), data, k: 10, "ann-groundtruth")
    }

    /// At unit length the inner product is the cosine: ip on unit vectors, cos on them and cos
    /// on raw SIFT (scaled by the tool) rank alike and report the same values, within rounding.
    @Test func ipIsCosAtUnitLength() throws {
        let s = try Scratch()
        let unit = try MetricData.get(MetricCase(metric: .ip, unit: true))
        let u = try s.metricInputs(unit)
        let rawBase = try s.sample("siftsmall_base.fvecs"), rawQueries = try s.sample("siftsmall_query.fvecs")
        let runs = [("ip-unit", "ip", u.base, u.queries), ("cos-unit", "cos", u.base, u.queries), ("cos-raw", "cos", rawBase, rawQueries)]
        var lists = [String: NeighborList]()
        for (name, metric, base, queries) in runs {
            try s.setup("ann-groundtruth", ["--base", base, "-k", "10", "--metric", metric, "-o", s.path("\(name).annn"), queries])
            lists[name] = try NeighborList.load(s.path("\(name).annn"))
        }
        let ip = try #require(lists["ip-unit"])
        for name in ["cos-unit", "cos-raw"] {
            let other = try #require(lists[name])
            #expect(other.metric == .cos && ip.metric == .ip)
            #expect(other.count == 100 && other.k == 10 && ip.count == 100 && ip.k == 10)
            for q in 0..<100 {
                for j in 0..<10 {
                    let at = q * 10 + j
                    #expect(abs(ip.distances[at] - other.distances[at]) <= 1e-5, "\(name) query \(q) rank \(j)")
                    // The same id unless brute force sees a tie there.
                    let tied = unit.tied(q, rank: j)
                    if tied.count == 1 { #expect(other.ids[at] == UInt32(tied[0]) && ip.ids[at] == UInt32(tied[0]), "\(name) query \(q) rank \(j)") }
                }
            }
        }
    }

    /// ann-kmeans --metric ip|cos: unit-length centroids (spherical k-means, ann-kmeans(1)), every
    /// vector assigned to its most similar centroid, and the objective (the negated sum of
    /// similarities, reported with -v) falling to that of the final clustering.
    @Test(arguments: MetricCase.all)
    func kmeansAssignsEachVectorToItsMostSimilarCentroid(_ c: MetricCase) throws {
        let s = try Scratch()
        let data = try MetricData.get(c)
        let f = try s.metricInputs(data)
        let k = 24, iterations = 10, d = MetricData.dim
        let r = try s.run("ann-kmeans", ["-k", "\(k)", "--iters", "\(iterations)", "--metric", c.metric.rawValue, "-v",
                                         "--assignments", s.output("a.anna"), "-o", s.output("c.annv"), f.base])
        #expect(r.exited && r.status == 0, "\(r.stderr)")
        let reader = try VectorReader(path: s.output("c.annv"))
        #expect(reader.metric == c.metric && reader.count == k && reader.dim == d)
        let centroids = try reader.readAll()
        let centroidNorms = (0..<k).map { norm(centroids.row($0, d)) }
        for i in 0..<k { #expect(abs(centroidNorms[i] - 1) < 1e-4, "centroid \(i): norm \(centroidNorms[i])") }

        let a = try Assignment.load(s.output("a.anna"))
        #expect(a.clusterCount == k && a.vectors == (0..<UInt32(data.baseCount)).map { $0 })
        guard a.pairCount == data.baseCount else { return }
        var wrong = [Int]()
        var objective = 0.0
        var sizes = [Int](repeating: 0, count: k)
        for i in 0..<data.baseCount {
            let x = data.base.row(i, d), xn = norm(x)
            let sims = (0..<k).map { similarity(c.metric, x, centroids.row($0, d), xn, centroidNorms[$0]) }
            let mine = sims[Int(a.clusters[i])]
            // Centroids are float32 and not integers: rounding of a few 1e-6 of |x|·|c|.
            if mine < sims.max()! - (c.metric == .ip && !c.unit ? 2e-5 * xn : 1e-5) { wrong.append(i) }
            objective -= mine
            sizes[Int(a.clusters[i])] += 1
        }
        #expect(wrong.isEmpty, "\(wrong.count) vectors not in their most similar cluster: \(wrong.prefix(10))")
        #expect(sizes.allSatisfy { $0 > 0 }, "\(sizes)")

        // The objective: a mean similarity within what the data allows (at most 1 at unit
        // length, at most the mean norm for raw ip), never rising over the iterations (but
        // after an iteration that repaired an empty cluster), and that of the final clustering
        // at the end: the last one reported precedes the last update, which moves the
        // centroids by little after 10 iterations.
        let n = Double(data.baseCount)
        let meanSimilarity = -objective / n
        let meanNorm = (0..<data.baseCount).reduce(0.0) { $0 + norm(data.base.row($1, d)) } / n
        #expect(meanSimilarity > 0 && meanSimilarity <= (c.metric == .ip && !c.unit ? meanNorm : 1) + 1e-6, "\(meanSimilarity)")
        let lines = r.stderr.split(separator: "\n").filter { $0.contains(": objective ") }
        let reported = lines.compactMap { line in Double(line.components(separatedBy: ": objective ")[1].split(separator: ",")[0]) }
        let repaired = lines.map { $0.contains("repaired") }
        #expect(reported.count == iterations, "\(r.stderr)")
        guard reported.count == iterations, let last = reported.last else { return }
        for i in 1..<iterations where !repaired[i - 1] {
            #expect(reported[i] <= reported[i - 1] + 1e-5 * abs(reported[i - 1]), "iteration \(i + 1): \(reported)")
        }
        #expect(reported[0] > last, "\(reported)")
        if !repaired[iterations - 1] { #expect(objective <= last + 1e-5 * abs(last), "final \(objective), reported \(reported)") }
        #expect(abs(objective - last) <= 0.01 * abs(objective), "final \(objective), reported \(reported)")
    }

    /// ann-pack and ann-query: every cluster fetched is the brute force (and ann-groundtruth's
    /// output, byte for byte, as ann-query(1) says); two clusters of 16 find the true nearest
    /// neighbour exactly for the queries whose nearest neighbour lies in one of the two clusters
    /// whose centroids are most similar to the query, as counted here, which beats fetching the
    /// same share of the base blindly.
    @Test(arguments: MetricCase.all)
    func queryIsTheBruteForceWithEveryCluster(_ c: MetricCase) throws {
        let s = try Scratch()
        let data = try MetricData.get(c)
        let f = try s.metricInputs(data)
        let built = try s.metricIndex(c, base: f.base)
        let idx = try PackedIndex(path: built.index)
        #expect(idx.metric == c.metric && idx.clusterCount == 16 && idx.vectorCount == data.baseCount)
        try s.setup("ann-groundtruth", ["--base", f.base, "-k", "10", "--metric", c.metric.rawValue, "-o", s.path("gt.annn"), f.queries])

        let r = try s.run("ann-query", ["--index", built.index, "--nprobe", "16", "-k", "10", "--metric", c.metric.rawValue,
                                        "-o", s.output("all.annn"), f.queries])
        expectSuccess(r)
        let all = try NeighborList.load(s.output("all.annn"))
        expectBruteForce(all, data, k: 10, "ann-query --nprobe 16")
        let gt = try NeighborList.load(s.path("gt.annn"))
        #expect(all.ids == gt.ids && all.distances == gt.distances)

        expectSuccess(try s.run("ann-query", ["--index", built.index, "--nprobe", "2", "-k", "10", "--stats", s.output("s.tsv"),
                                              "-o", s.output("two.annn"), f.queries]))
        let score = try s.run("ann-eval", ["score", "--gt", s.path("gt.annn"), "--stats", s.output("s.tsv"), s.output("two.annn")])
        expectSuccess(score)
        let recall = try #require(reportedRecallAt1(score), "\(String(decoding: score.stdout, as: UTF8.self))")
        let two = try NeighborList.load(s.output("two.annn"))
        #expect(abs(recall - recount(two, gt).at1) < 1e-4)

        // Which queries must be hits and which misses, from the centroids of the index (scaled
        // to unit length by ann-pack) and the assignment: a query is sure when its second and
        // third clusters are apart by more than rounding, and its nearest neighbour is unique
        // (a hit when it lies in the two clusters) or all of its tied nearest lie elsewhere (a miss).
        let d = MetricData.dim
        let clusterOf = try Assignment.load(built.assignments).clusters.map(Int.init)
        var hits = 0, misses = 0
        for q in 0..<data.queryCount {
            let qv = data.queries.row(q, d), qn = norm(qv)
            let scores = (0..<16).map { similarity(c.metric, qv, idx.centroids.row($0, d), qn, norm(idx.centroids.row($0, d))) }
            let ranked = (0..<16).sorted { scores[$0] > scores[$1] }
            let gap = scores[ranked[1]] - scores[ranked[2]]
            guard gap > (c.metric == .ip && !c.unit ? 2e-5 * qn : 1e-5) else { continue }
            let chosen = Set(ranked.prefix(2))
            let nearest = data.tied(q, rank: 0)
            if nearest.count == 1 && chosen.contains(clusterOf[nearest[0]]) { hits += 1 }
            if nearest.allSatisfy({ !chosen.contains(clusterOf[$0]) }) { misses += 1 }
        }
        let n = Double(data.queryCount)
        #expect(hits + misses > data.queryCount * 9 / 10, "too few queries decided: \(hits) hits, \(misses) misses")
        #expect(recall >= Double(hits) / n - 1e-9 && recall <= 1 - Double(misses) / n + 1e-9,
                "recall@1 \(recall): \(hits) sure hits, \(misses) sure misses")
        let fetched = try StatsFile(s.output("s.tsv")).column("vectors")
        let share = Double(fetched.reduce(0, +)) / n / Double(data.baseCount)
        #expect(fetched.count == data.queryCount && recall > share, "recall@1 \(recall), share of the base fetched \(share)")
    }
}
