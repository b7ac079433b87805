import ANNKit
import Foundation
import Testing

/// One way of running a similarity metric on SIFT: the metric, and whether the tools are
/// given SIFT scaled to unit length by the test or SIFT as it is.
struct MetricCase: Sendable, Hashable, CustomTestStringConvertible {
    var metric: Metric
    var unit: Bool

    var testDescription: String { "\(metric.rawValue) on \(unit ? "unit-length" : "raw") SIFT" }

    /// ip on unit vectors (where it ranks as cos does), ip on raw SIFT (maximum inner product
    /// search: the norms matter), cos on raw SIFT (the tools must scale it themselves) and cos
    /// on unit vectors.
    static let all = [MetricCase(metric: .ip, unit: true), MetricCase(metric: .ip, unit: false),
                      MetricCase(metric: .cos, unit: false), MetricCase(metric: .cos, unit: true)]
}

/// The vectors of a case as the tools get them, and the exact similarities of the siftsmall
/// queries to the siftsmall base, in double precision, as ann-tools(7) defines them: ip the
/// inner product, cos the inner product of the vectors scaled to unit length. Files hold these
/// similarities, nearest (largest) first.
struct MetricData: Sendable {
    static let dim = 128
    var c: MetricCase
    var base: [Float]
    var queries: [Float]
    /// The 10,000 BIGANN vectors (as float), the training queries of the router.
    var train: [Float]
    var baseCount: Int { base.count / Self.dim }
    var queryCount: Int { queries.count / Self.dim }
    /// `queryCount × baseCount` similarities.
    var sims: [Double]
    /// Per query, the base ids by decreasing similarity (ties by the smaller id).
    var order: [[Int]]
    /// Per query, how far two similarities may be apart and still count as equal.
    var tolerance: [Double]

    /// Built once per process, for every case.
    private static let cache: [MetricCase: Result<MetricData, any Error>] = {
        var out = [MetricCase: Result<MetricData, any Error>]()
        for c in MetricCase.all { out[c] = Result { try MetricData(c) } }
        return out
    }()

    static func get(_ c: MetricCase) throws -> MetricData { try cache[c]!.get() }

    private init(_ c: MetricCase) throws {
        let d = Self.dim
        self.c = c
        let rawBase = try SampleData.vectors("siftsmall_base.fvecs").values
        let rawQueries = try SampleData.vectors("siftsmall_query.fvecs").values
        let rawTrain = try SampleData.vectors("bigann10k_base.bvecs").values
        let base = c.unit ? unitRows(rawBase, dim: d) : rawBase
        let queries = c.unit ? unitRows(rawQueries, dim: d) : rawQueries
        self.base = base
        self.queries = queries
        train = c.unit ? unitRows(rawTrain, dim: d) : rawTrain
        let n = base.count / d, nq = queries.count / d
        let baseNorms = (0..<n).map { norm(base.row($0, d)) }
        let maxNorm = baseNorms.max() ?? 0
        var sims = [Double](repeating: 0, count: nq * n)
        var order = [[Int]]()
        var tolerance = [Double]()
        for q in 0..<nq {
            let qv = queries.row(q, d), qn = norm(qv)
            for i in 0..<n {
                sims[q * n + i] = similarity(c.metric, qv, base.row(i, d), qn, baseNorms[i])
            }
            let o = q * n
            order.append((0..<n).sorted { sims[o + $0] > sims[o + $1] || (sims[o + $0] == sims[o + $1] && $0 < $1) })
            // Inner products of raw SIFT are integers below 2^24, exact in float32 whatever the
            // order of summation: a millionth of the largest the query can have (|q|·max|x|,
            // about 3e5) is far above any rounding and below the spacing of 1 between distinct
            // values. Values at unit
            // length (given so, or scaled by the tools in float32) carry float32 rounding of a
            // few 1e-7.
            tolerance.append(c.metric == .ip && !c.unit ? 1e-6 * qn * maxNorm : 1e-5)
        }
        self.sims = sims
        self.order = order
        self.tolerance = tolerance
    }

    func sim(_ q: Int, _ id: Int) -> Double { sims[q * baseCount + id] }

    /// The ids a search may rightly put at rank `j` of query `q`: those whose similarity is
    /// that of the true j-th neighbour, within the tolerance.
    func tied(_ q: Int, rank j: Int) -> [Int] {
        let v = sim(q, order[q][j])
        return order[q].filter { abs(sim(q, $0) - v) <= tolerance[q] }
    }
}

/// Rows scaled to unit length in double precision, then rounded to float32.
private func unitRows(_ v: [Float], dim: Int) -> [Float] {
    var out = v
    for r in 0..<(v.count / dim) {
        let n = norm(v.row(r, dim))
        guard n > 0 else { continue }
        for j in (r * dim)..<((r + 1) * dim) { out[j] = Float(Double(v[j]) / n) }
    }
    return out
}

private func norm(_ v: ArraySlice<Float>) -> Double { v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

/// The similarity of two vectors under `metric` (ip or cos) in double precision, given their
/// norms; cos of a zero vector is 0, as the tools leave a zero vector zero when they scale it.
private func similarity(_ metric: Metric, _ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ na: Double, _ nb: Double) -> Double {
    var s = 0.0
    for (x, y) in zip(a, b) { s += Double(x) * Double(y) }
    guard metric == .cos else { return s }
    return na > 0 && nb > 0 ? s / (na * nb) : 0
}

/// A neighbour list against brute force: per query, k distinct real ids, each with its true
/// similarity as its value, values descending, and at each rank the value of the true neighbour
/// at that rank, so that the ids are the true ones up to ties.
private func expectBruteForce(_ list: NeighborList, _ data: MetricData, k: Int, _ what: String,
                      sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(list.metric == data.c.metric && list.k == k && list.count == data.queryCount,
            "\(what): \(list.metric) k \(list.k) count \(list.count)", sourceLocation: sourceLocation)
    guard list.k == k && list.count == data.queryCount else { return }
    var wrong = [String]()
    for q in 0..<list.count {
        let ids = Array(list.row(q)), values = Array(list.rowDistances(q)), tol = data.tolerance[q]
        if Set(ids).count != k || ids.contains(where: { Int($0) >= data.baseCount }) {
            wrong.append("query \(q): ids \(ids)")
            continue
        }
        for j in 0..<k {
            let id = Int(ids[j]), v = Double(values[j])
            let exact = data.sim(q, id), truth = data.sim(q, data.order[q][j])
            if abs(v - exact) > tol { wrong.append("query \(q) rank \(j): id \(id) has \(v), brute force \(exact)") }
            if abs(v - truth) > tol { wrong.append("query \(q) rank \(j): \(v), brute force's rank \(j) is \(truth) (id \(data.order[q][j]))") }
            if j > 0 && values[j] > values[j - 1] { wrong.append("query \(q) rank \(j): values rise") }
        }
    }
    #expect(wrong.isEmpty, "\(what): \(wrong.count) mismatches: \(wrong.prefix(5))", sourceLocation: sourceLocation)
}

/// The recall@1 line of an ann-eval score report.
private func reportedRecallAt1(_ r: RunResult) -> Double? {
    String(decoding: r.stdout, as: UTF8.self).split(separator: "\n")
        .first { $0.hasPrefix("recall@1 ") }
        .flatMap { Double($0.split(separator: " ").last ?? "") }
}

extension Scratch {
    /// The case's base, test queries and training queries as files: the bundled files for raw
    /// SIFT, .fvecs written here for unit length.
    func metricInputs(_ data: MetricData) throws -> (base: String, queries: String, train: String) {
        guard data.c.unit else {
            return (try sample("siftsmall_base.fvecs"), try sample("siftsmall_query.fvecs"), try sample("bigann10k_base.bvecs"))
        }
        try write(Encode.fvecs(data.base, dim: MetricData.dim), to: "base-unit.fvecs")
        try write(Encode.fvecs(data.queries, dim: MetricData.dim), to: "query-unit.fvecs")
        try write(Encode.fvecs(data.train, dim: MetricData.dim), to: "train-unit.fvecs")
        return (path("base-unit.fvecs"), path("query-unit.fvecs"), path("train-unit.fvecs"))
    }

    /// ann-kmeans and ann-pack for the case's metric, as the examples Makefile chains them
    /// (centroids as .fvecs record no metric, so ann-pack is told it).
    func metricIndex(_ c: MetricCase, base: String, k: Int = 16) throws -> (centroids: String, assignments: String, index: String) {
        try setup("ann-kmeans", ["-k", "\(k)", "--iters", "8", "--metric", c.metric.rawValue, "--assignments", path("a.anna"),
                                 "-o", path("c.fvecs"), base])
        try setup("ann-pack", ["--metric", c.metric.rawValue, "--centroids", "c.fvecs", "--assignments", "a.anna", "-o", path("i.anni"), base])
        return (path("c.fvecs"), path("a.anna"), path("i.anni"))
    }
}

/// `--metric ip` and `--metric cos` through every tool on real SIFT vectors, held to a brute
/// force computed here: ground truth, k-means, packing and querying, router training,
/// duplication and evaluation; and every mismatch of metrics refused.
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

    /// ann-train for the metric (2 epochs of a small network, a kernel router of 4 points per
    /// cluster, or a PQ router), then ann-query --model: exact with every cluster; ann-eval sweep --model:
    /// a curve that rises to 1; ann-dup with the model, packed again: still exact, the model
    /// still valid.
    @Test(arguments: MetricCase.all, ["residual", "kernel", "pq"])
    func routerTrainedForTheMetric(_ c: MetricCase, _ kind: String) throws {
        let s = try Scratch()
        let data = try MetricData.get(c)
        let f = try s.metricInputs(data)
        let built = try s.metricIndex(c, base: f.base)
        let m = c.metric.rawValue
        try s.setup("ann-groundtruth", ["--base", f.base, "-k", "1", "--metric", m, "-o", s.path("train-gt.annn"), f.train])
        try s.setup("ann-groundtruth", ["--base", f.base, "-k", "10", "--metric", m, "-o", s.path("gt.annn"), f.queries])
        // The training ground truth is the brute force too (checked on a sample of it).
        let trainTruth = try NeighborList.load(s.path("train-gt.annn"))
        #expect(trainTruth.metric == c.metric && trainTruth.count == data.train.count / MetricData.dim)
        let d = MetricData.dim
        let baseNorms = (0..<data.baseCount).map { norm(data.base.row($0, d)) }
        for q in stride(from: 0, to: trainTruth.count, by: 500) {
            let qv = data.train.row(q, d), qn = norm(qv)
            let best = (0..<data.baseCount).map { similarity(c.metric, qv, data.base.row($0, d), qn, baseNorms[$0]) }.max()!
            let got = similarity(c.metric, qv, data.base.row(Int(trainTruth.ids[q]), d), qn, baseNorms[Int(trainTruth.ids[q])])
            let tol = c.metric == .ip && !c.unit ? 1e-6 * qn * baseNorms.max()! : 1e-5
            #expect(abs(got - best) <= tol && abs(Double(trainTruth.distances[q]) - best) <= tol, "training query \(q)")
        }

        let shape = kind == "kernel" ? ["--points", "4"] : kind == "pq" ? [] : ["--hidden", "32"]
        let r = try s.run("ann-train", ["--router", kind, "--epochs", "2"] + shape + ["--index", built.index,
                                        "--gt", s.path("train-gt.annn"), "-o", s.output("m.annm"), f.train])
        RouterCLITests.expectTrained(r)
        let idx = try PackedIndex(path: built.index)
        let file = try ModelFile(path: s.output("m.annm"), for: idx)
        #expect(file.architecture == (kind == "kernel" ? .kernel : kind == "pq" ? .pq : .mlp))
        let model = try file.router()
        #expect(file.metric == c.metric && file.fingerprint == idx.fingerprint && model.clusterCount == 16)

        expectSuccess(try s.run("ann-query", ["--index", built.index, "--model", s.output("m.annm"), "--nprobe", "16",
                                              "-o", s.output("all.annn"), f.queries]))
        expectBruteForce(try NeighborList.load(s.output("all.annn")), data, k: 10, "ann-query --model --nprobe 16")

        expectSuccess(try s.run("ann-eval", ["sweep", "-q", "--index", built.index, "--model", s.output("m.annm"), "--gt", s.path("gt.annn"),
                                             "--nprobe", "1,2,4,8,16", "-o", s.output("c.tsv"), f.queries]))
        let curve = try RecallCurve.parse(String(decoding: try readBytes(s.output("c.tsv")), as: UTF8.self), source: "c.tsv")
        #expect(curve.points.map(\.setting) == ["nprobe=1", "nprobe=2", "nprobe=4", "nprobe=8", "nprobe=16"])
        for (a, b) in zip(curve.points, curve.points.dropFirst()) {
            #expect(a.recall1 <= b.recall1 && a.vectors < b.vectors, "\(a.setting) -> \(b.setting)")
        }
        // One cluster routed by the model beats one fetched blindly (the share of the base).
        #expect(curve.points.first.map { $0.recall1 > $0.vectors / Double(data.baseCount) } == true)
        #expect(curve.points.last.map { $0.recall1 == 1 && $0.recall10 == 1 && $0.vectors == Double(data.baseCount) } == true)

        // ann-dup: the keys copied where the model looks, packed again for the same metric.
        expectSuccess(try s.run("ann-dup", ["--model", s.output("m.annm"), "--index", built.index, "--gt", s.path("train-gt.annn"),
                                            "--fraction", "0.5", "-o", s.output("dup.anna"), f.train]))
        let dup = try Assignment.load(s.output("dup.anna"))
        #expect(dup.pairCount > data.baseCount)
        try s.setup("ann-pack", ["--metric", m, "--centroids", built.centroids, "--assignments", s.output("dup.anna"),
                                 "-o", s.output("dup.anni"), f.base])
        let onDup = try s.run("ann-query", ["--index", s.output("dup.anni"), "--model", s.output("m.annm"), "--nprobe", "16",
                                             "-o", s.output("dup.annn"), f.queries])
        guard kind != "pq" else {
            // A PQ router's codes follow the index it was trained for, vector by vector.
            #expect(onDup.status == 65 && onDup.stderr.contains("trained for another index"), "\(onDup.stderr)")
            return
        }
        expectSuccess(onDup)
        expectBruteForce(try NeighborList.load(s.output("dup.annn")), data, k: 10, "ann-query on the duplicated index")
    }

    /// Every mixing of metrics is refused: an index queried with another --metric, centroids
    /// packed for another, a model used with an index of the same centroids and another
    /// metric, and a ground truth for another metric than the results (ann-eval), the index
    /// (ann-eval sweep) or the index a router is trained for (ann-train, ann-dup).
    @Test func mismatchedMetricsAreRefused() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), queries = try s.sample("siftsmall_query.fvecs")
        let train = try s.sample("bigann10k_base.bvecs")
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "4", "--metric", "ip", "--assignments", s.path("a.anna"), "-o", s.path("c.annv"), base])
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "4", "--metric", "ip", "-o", s.path("c.fvecs"), base])
        // The metric is part of the clustering: the cos index needs an assignment made under cos.
        try s.setup("ann-kmeans", ["--centroids", "c.fvecs", "--metric", "cos", "--assignments", s.path("a-cos.anna"), base])
        try expectFailure(try s.run("ann-pack", ["--metric", "cos", "--centroids", "c.fvecs", "--assignments", "a.anna", "-o", s.output("i.anni"), base]),
                          tool: "ann-pack", status: 65, mentioning: ["a.anna", "another clustering"], scratch: s)
        for m in ["ip", "cos"] {
            try s.setup("ann-pack", ["--metric", m, "--centroids", "c.fvecs", "--assignments", m == "ip" ? "a.anna" : "a-cos.anna",
                                     "-o", s.path("\(m).anni"), base])
            try s.setup("ann-query", ["--index", "\(m).anni", "--nprobe", "8", "-o", s.path("r-\(m).annn"), queries])
        }
        for m in ["l2", "ip", "cos"] {
            try s.setup("ann-groundtruth", ["--base", base, "-k", "10", "--metric", m, "-o", s.path("gt-\(m).annn"), queries])
            try s.setup("ann-groundtruth", ["--base", base, "-k", "1", "--metric", m, "-o", s.path("train-\(m).annn"), train])
        }

        for (index, other) in [("ip", "l2"), ("ip", "cos"), ("cos", "ip"), ("cos", "l2")] {
            try expectFailure(try s.run("ann-query", ["--index", "\(index).anni", "--metric", other, "-o", s.output("r.annn"), queries]),
                              tool: "ann-query", status: 64, mentioning: ["\(index).anni was made for --metric \(index), not \(other)"], scratch: s)
        }
        // Native centroids record their metric.
        try expectFailure(try s.run("ann-pack", ["--metric", "cos", "--centroids", "c.annv", "--assignments", "a.anna", "-o", s.output("i.anni"), base]),
                          tool: "ann-pack", status: 64, mentioning: ["c.annv was made for --metric ip, not cos"], scratch: s)

        for (truth, results) in [("cos", "ip"), ("ip", "cos"), ("l2", "ip")] {
            // Two files that contradict each other: bad data (65), not a wrong request (64).
            try expectFailure(try s.run("ann-eval", ["score", "--gt", "gt-\(truth).annn", "r-\(results).annn"]), tool: "ann-eval", status: 65,
                              mentioning: ["gt-\(truth).annn: ground truth for --metric \(truth), the results for \(results)"], scratch: s)
            try expectFailure(try s.run("ann-eval", ["sweep", "--index", "\(results).anni", "--gt", "gt-\(truth).annn", "-o", s.output("c.tsv"), queries]),
                              tool: "ann-eval", status: 65,
                              mentioning: ["gt-\(truth).annn: ground truth for --metric \(truth), the index \(results).anni for \(results)"], scratch: s)
        }

        // A model for ip.anni: the same centroids packed for cos are another clustering.
        try s.setup("ann-train", ["--router", "residual", "--epochs", "1", "--hidden", "8", "--validation", "0", "--index", "ip.anni",
                                  "--gt", "train-ip.annn", "-o", s.path("ip.annm"), train])
        try expectFailure(try s.run("ann-query", ["--index", "cos.anni", "--model", "ip.annm", "-o", s.output("r.annn"), queries]),
                          tool: "ann-query", status: 65, mentioning: ["ip.annm", "another clustering", "cos.anni"], scratch: s)
        try expectFailure(try s.run("ann-eval", ["sweep", "--index", "cos.anni", "--model", "ip.annm", "--gt", "gt-cos.annn",
                                                 "-o", s.output("c.tsv"), queries]),
                          tool: "ann-eval", status: 65, mentioning: ["ip.annm", "another clustering"], scratch: s)
    }

    /// Regression: ann-train and ann-dup took a training ground truth for another metric than
    /// the index's and learnt, or duplicated for, the wrong neighbours without a word. A native
    /// ground truth records its metric and must be the index's; ids alone record none and are
    /// taken for the index's.
    @Test func trainingGroundTruthOfAnotherMetricIsRefused() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), train = try s.sample("bigann10k_base.bvecs")
        let built = try s.metricIndex(MetricCase(metric: .ip, unit: false), base: base, k: 8)
        for m in ["l2", "ip", "cos"] {
            try s.setup("ann-groundtruth", ["--base", base, "-k", "1", "--metric", m, "-o", s.path("train-\(m).annn"), train])
        }
        try s.setup("ann-groundtruth", ["--base", base, "-k", "1", "--metric", "ip", "-o", s.path("train-ip.ivecs"), train])
        let common = ["--router", "residual", "--epochs", "1", "--hidden", "8", "--validation", "0", "--index", built.index]
        for other in ["l2", "cos"] {
            try expectFailure(try s.run("ann-train", common + ["--gt", "train-\(other).annn", "-o", s.output("m.annm"), train]), tool: "ann-train",
                              status: 65, mentioning: ["train-\(other).annn: ground truth for --metric \(other), the index \(built.index) for ip"],
                              scratch: s)
        }
        RouterCLITests.expectTrained(try s.run("ann-train", common + ["--gt", "train-ip.ivecs", "-o", s.output("ids.annm"), train]))
        RouterCLITests.expectTrained(try s.run("ann-train", common + ["--gt", "train-ip.annn", "-o", s.output("m.annm"), train]))
        #expect(try readBytes(s.output("ids.annm")) == readBytes(s.output("m.annm")), "the ids alone train the same model")
        try FileManager.default.moveItem(atPath: s.output("m.annm"), toPath: s.path("m.annm"))
        try FileManager.default.removeItem(atPath: s.output("ids.annm"))

        let dup = ["--model", "m.annm", "--index", built.index]
        for other in ["l2", "cos"] {
            try expectFailure(try s.run("ann-dup", dup + ["--gt", "train-\(other).annn", "-o", s.output("a.anna"), train]), tool: "ann-dup",
                              status: 65, mentioning: ["train-\(other).annn: ground truth for --metric \(other)"], scratch: s)
        }
        expectSuccess(try s.run("ann-dup", dup + ["--gt", "train-ip.ivecs", "-o", s.output("a.anna"), train]))
    }
}
