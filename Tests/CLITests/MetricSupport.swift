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
func unitRows(_ v: [Float], dim: Int) -> [Float] {
    var out = v
    for r in 0..<(v.count / dim) {
        let n = norm(v.row(r, dim))
        guard n > 0 else { continue }
        for j in (r * dim)..<((r + 1) * dim) { out[j] = Float(Double(v[j]) / n) }
    }
    return out
}

func norm(_ v: ArraySlice<Float>) -> Double { v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

/// The similarity of two vectors under `metric` (ip or cos) in double precision, given their
/// norms; cos of a zero vector is 0, as the tools leave a zero vector zero when they scale it.
func similarity(_ metric: Metric, _ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ na: Double, _ nb: Double) -> Double {
    var s = 0.0
    for (x, y) in zip(a, b) { s += Double(x) * Double(y) }
    guard metric == .cos else { return s }
    return na > 0 && nb > 0 ? s / (na * nb) : 0
}

/// A neighbour list against brute force: per query, k distinct real ids, each with its true
/// similarity as its value, values descending, and at each rank the value of the true neighbour
/// at that rank, so that the ids are the true ones up to ties.
func expectBruteForce(_ list: NeighborList, _ data: MetricData, k: Int, _ what: String,
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
func reportedRecallAt1(_ r: RunResult) -> Double? {
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
