import Glibc

/// A cluster router that keeps in memory a product-quantised code of the index's vectors nearest
/// a cluster boundary (ann-formats(5), ANNM architecture 2). For a query it ranks the `lists`
/// clusters whose centroids are nearest, estimates the distance to each of their coded vectors
/// from the codes
/// (residuals from the centroid, as FAISS's IVFPQ), keeps the `candidates` best, and turns what
/// they say about each cluster into a probability of holding the nearest neighbour:
/// - `.learned`: a small network (`CandidateScorer`) over per-cluster features (the gaps of the
///   cluster's three best candidates to the query's best, how many of the candidates it holds,
///   its centroid's gap, its size, the query's scale), a softmax over the scored clusters;
/// - `.temperature`: softmax(−d/T) of the cluster's best candidate, T fitted on training
///   queries: the PQ-in-memory baseline.
/// Either gives scores −log p that the `--threshold` rule reads. The memory it holds is the
/// codes (m bytes per coded vector) and the codebooks (256·d floats), recorded in the model.
public struct PQRouter: ClusterRouter {
    public enum Calibration: UInt8, Sendable, CaseIterable {
        case temperature = 0
        case learned = 1
    }

    /// Added to the calibration byte of the model when the codes are of rotated residuals.
    static let rotatedFlag: UInt8 = 2

    /// The model's mode byte (ann-formats(5), ANNM fixed byte 16): the calibration, plus
    /// `rotatedFlag` for rotated codes.
    var modeByte: UInt8 { calibration.rawValue | (quantizer.rotated ? Self.rotatedFlag : 0) }

    /// What a mode byte says: the calibration (nil for one not defined, or a bit set beyond the
    /// rotation's) and whether the codes are rotated.
    static func mode(_ byte: UInt8) -> (calibration: Calibration?, rotated: Bool) {
        (Calibration(rawValue: byte & ~rotatedFlag), byte & rotatedFlag != 0)
    }

    public let dim: Int
    public let clusterCount: Int
    public let metric: Metric
    public let fingerprint: UInt64
    public let quantizer: ProductQuantizer
    /// Clusters scored per query (nearest centroids first).
    public let lists: Int
    /// Candidate vectors kept per query.
    public let candidates: Int
    public var calibration: Calibration
    /// T of the `.temperature` calibration (squared-distance units for l2, inner-product units
    /// otherwise); 0 with `.learned`.
    public var temperature: Float
    public var scorer: CandidateScorer?
    /// The index's membership the codes follow: CRC-32C of each cluster's vector count and frame
    /// checksum, in cluster order (`PQRouter.membership(of:)`).
    public let membership: UInt32
    /// Cluster c's codes are `codes[start + offsets[c]·m ..< start + offsets[c+1]·m]`: the model
    /// file's own bytes when loaded, so that they are held once. Only the vectors nearest a
    /// cluster boundary have a code (`PQRouterParameters.codedShare`).
    let codes: [UInt8]
    let codesStart: Int
    public let offsets: [Int]
    /// The vectors of each cluster in the index (coded or not).
    public let sizes: [Int]
    let coarse: CentroidRouter

    /// The probability given to a cluster no candidate speaks for: none; its score sits above
    /// every scored cluster's, ordered by centroid distance, so that a budget rule still ranks it.
    static let unscored: Float = 1e4

    public init(dim: Int, metric: Metric, fingerprint: UInt64, quantizer: ProductQuantizer, lists: Int, candidates: Int,
                calibration: Calibration, temperature: Float, scorer: CandidateScorer?, membership: UInt32,
                codes: [UInt8], codesStart: Int = 0, coded: [Int], sizes: [Int], centroids: [Float]) {
        precondition(coded.count == sizes.count && zip(coded, sizes).allSatisfy { $0 <= $1 })
        precondition(calibration == .temperature || scorer != nil)
        self.dim = dim
        clusterCount = sizes.count
        self.metric = metric
        self.fingerprint = fingerprint
        self.quantizer = quantizer
        self.lists = max(1, min(lists, sizes.count))
        self.candidates = candidates
        self.calibration = calibration
        self.temperature = temperature
        self.scorer = scorer
        self.membership = membership
        self.codes = codes
        self.codesStart = codesStart
        var o = [0]
        o.reserveCapacity(coded.count + 1)
        for c in coded { o.append(o.last! + c) }
        offsets = o
        self.sizes = sizes
        coarse = CentroidRouter(centroids: centroids, dim: dim, metric: metric)
    }

    /// The digest of `index`'s membership that a PQ router records and is checked against.
    public static func membership(of index: PackedIndex) -> UInt32 {
        var bytes = [UInt8](repeating: 0, count: 8 * index.clusterCount)
        for (c, e) in index.entries.enumerated() {
            bytes.storeLE(UInt32(truncatingIfNeeded: e.vectors), at: 8 * c)
            bytes.storeLE(e.crc, at: 8 * c + 4)
        }
        return Checksum.crc32c(bytes)
    }

    // MARK: - Examining a query

    /// Buffers for one query at a time, reused across queries by one thread: a query allocates
    /// nothing.
    public final class Workspace {
        var table: [Float]
        var heapDistance: [Float]
        var heapList: [Int32]
        var residual: [Float]
        var act: [Float]
        var sorted: [Float]
        var soft: [Float]
        /// The clusters scored (`listed[0..<scored]`, nearest centroid first), and per scored
        /// cluster its centroid term, its three best candidate distances (+∞ where it has fewer),
        /// the candidates it holds, its features (`CandidateScorer.featureCount` each) and, after
        /// `logProbabilities`, log p.
        public var scored = 0
        public var listed: [Int]
        var centroidTerm: [Float]
        public var best: [Float]
        var count: [Int]
        public var features: [Float]
        public var logp: [Float]

        public init(_ r: PQRouter) {
            let p = r.lists
            table = [Float](repeating: 0, count: r.quantizer.m * ProductQuantizer.words)
            heapDistance = [Float](repeating: 0, count: max(1, r.candidates))
            heapList = [Int32](repeating: 0, count: max(1, r.candidates))
            sorted = [Float](repeating: 0, count: max(1, r.candidates))
            residual = [Float](repeating: 0, count: r.dim)
            act = [Float](repeating: 0, count: max(1, r.scorer?.hidden ?? 1))
            listed = [Int](repeating: 0, count: p)
            centroidTerm = [Float](repeating: 0, count: p)
            best = [Float](repeating: 0, count: 3 * p)
            count = [Int](repeating: 0, count: p)
            soft = [Float](repeating: 0, count: 3 * p)
            features = [Float](repeating: 0, count: p * CandidateScorer.featureCount)
            logp = [Float](repeating: 0, count: p)
        }
    }

    /// The `lists` clusters of smallest centroid score, in order (ties to the smaller number),
    /// by insertion into `ws.listed`.
    func rank(_ row: UnsafePointer<Float>, into ws: Workspace) {
        let p = lists
        var n = 0
        ws.listed.withUnsafeMutableBufferPointer { l in
            for c in 0..<clusterCount {
                let v = row[c]
                if n == p && v >= row[l[p - 1]] { continue }
                var i = n < p ? n : p - 1
                if n < p { n += 1 }
                while i > 0 && row[l[i - 1]] > v { l[i] = l[i - 1]; i -= 1 }
                l[i] = c
            }
        }
        ws.scored = n
    }

    /// Ranks the clusters for one query (`centroidRow`: the centroid router's scores of it,
    /// `squaredNorm`: ‖q‖² for l2) and fills `ws` with the scored clusters, their candidates'
    /// statistics and, with a learned calibration, their features.
    public func examine(_ q: UnsafePointer<Float>, centroidRow: UnsafePointer<Float>, squaredNorm: Float, into ws: Workspace) {
        let m = quantizer.m
        rank(centroidRow, into: ws)
        let p = ws.scored
        for li in 0..<p { ws.centroidTerm[li] = centroidRow[ws.listed[li]] + (metric == .l2 ? squaredNorm : 0) }
        var size = 0
        let cap = candidates
        let prunable = metric == .l2, step = max(3, (m + 3) / 4)
        codes.withUnsafeBufferPointer { cb in
            ws.table.withUnsafeMutableBufferPointer { tb in
                ws.heapDistance.withUnsafeMutableBufferPointer { hd in
                    ws.heapList.withUnsafeMutableBufferPointer { hl in
                        let table = tb.baseAddress!
                        if metric != .l2 { quantizer.table(q, metric: metric, into: table) }
                        for li in 0..<p {
                            let c = ws.listed[li]
                            let constant: Float
                            if metric == .l2 {
                                ws.residual.withUnsafeMutableBufferPointer { r in
                                    coarse.centroids.withUnsafeBufferPointer { cen in
                                        let cc = cen.baseAddress! + c * dim
                                        for u in 0..<dim { r[u] = q[u] - cc[u] }
                                    }
                                    quantizer.table(r.baseAddress!, metric: .l2, into: table)
                                }
                                constant = 0
                            } else {
                                constant = ws.centroidTerm[li]
                            }
                            var code = cb.baseAddress! + codesStart + offsets[c] * m
                            var left = offsets[c + 1] - offsets[c]
                            func offer(_ dist: Float) {
                                BoundedHeap.offer(dist, Int32(li), keys: hd.baseAddress!, values: hl.baseAddress!, size: &size,
                                                  capacity: cap) { a, _, b, _ in a > b }
                            }
                            // Four codes at a time, offered in order: the same heap as one by one.
                            // An l2 term is never negative, so once the heap is full, four codes
                            // whose first subspaces already reach its worst would all be refused:
                            // checked after each quarter of the subspaces (nil: refused).
                            func sums(_ code: UnsafePointer<UInt8>) -> SIMD4<Float>? {
                                var d = SIMD4<Float>.zero, from = 0
                                while from < m {
                                    let to = min(m, from + step)
                                    d = ProductQuantizer.lookup4(table, code: code, m: m, from: from, to: to, start: d)
                                    from = to
                                    if from < m && prunable && size == cap && all(d .>= hd[0]) { return nil }
                                }
                                return d
                            }
                            while left >= 4 {
                                if let d = sums(code) { for j in 0..<4 { offer(constant + d[j]) } }
                                code += 4 * m
                                left -= 4
                            }
                            for _ in 0..<left {
                                offer(constant + ProductQuantizer.lookup(table, code: code, m: m))
                                code += m
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<(3 * p) { ws.best[i] = .infinity }
        for li in 0..<p { ws.count[li] = 0 }
        var overall = Float.infinity, worst = -Float.infinity
        for i in 0..<size {
            let d = ws.heapDistance[i], li = Int(ws.heapList[i])
            overall = min(overall, d)
            worst = max(worst, d)
            ws.count[li] += 1
            // Keep the three smallest in order.
            if d < ws.best[3 * li + 2] {
                var j = 3 * li + 2
                ws.best[j] = d
                while j > 3 * li && ws.best[j] < ws.best[j - 1] { ws.best.swapAt(j, j - 1); j -= 1 }
            }
        }
        guard calibration == .learned else { return }
        func s(_ d: Float) -> Float { metric == .l2 ? max(d, 0).squareRoot() : d }
        let f = CandidateScorer.featureCount
        let s0 = size > 0 ? s(overall) : 0, sw = size > 0 ? s(worst) : 0
        var t0 = Float.infinity
        for li in 0..<p { t0 = min(t0, ws.centroidTerm[li]) }
        t0 = s(t0)
        // The query's own scale: how far its tenth candidate lies behind the first. Soft counts
        // of each cluster's candidates at three multiples of it say how crowded the front is.
        var local: Float = 1
        if size > 0 {
            for i in 0..<size { ws.sorted[i] = ws.heapDistance[i] }
            let tenth = min(9, size - 1)
            ws.sorted.withUnsafeMutableBufferPointer { b in Self.select(b.baseAddress!, count: size, rank: tenth) }
            local = max(s(ws.sorted[tenth]) - s0, 1e-6)
        }
        for i in 0..<(3 * p) { ws.soft[i] = 0 }
        for i in 0..<size {
            let g = (s(ws.heapDistance[i]) - s0) / local, li = Int(ws.heapList[i])
            ws.soft[3 * li] += Glibc.expf(-2 * g)
            ws.soft[3 * li + 1] += Glibc.expf(-g)
            ws.soft[3 * li + 2] += Glibc.expf(-g / 2)
        }
        for li in 0..<p {
            let row = li * f
            for j in 0..<3 {
                let b = ws.best[3 * li + j]
                ws.features[row + j] = (b.isFinite ? s(b) : sw) - s0
            }
            ws.features[row + 3] = Glibc.log1pf(Float(ws.count[li]))
            ws.features[row + 4] = s(ws.centroidTerm[li]) - t0
            let c = ws.listed[li]
            ws.features[row + 5] = Glibc.logf(Float(max(1, sizes[c])))
            ws.features[row + 6] = s0
            ws.features[row + 7] = ws.features[row] * ws.features[row]
            ws.features[row + 8] = local
            for j in 0..<3 { ws.features[row + 9 + j] = Glibc.logf(ws.soft[3 * li + j] + 1e-6) }
            ws.features[row + 12] = ws.features[row] / local
        }
    }

    /// Moves the `rank`-th smallest of `count` values to position `rank` (quickselect).
    static func select(_ a: UnsafeMutablePointer<Float>, count: Int, rank: Int) {
        var lo = 0, hi = count - 1
        while lo < hi {
            let pivot = a[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j { let t = a[i]; a[i] = a[j]; a[j] = t; i += 1; j -= 1 }
            }
            if rank <= j { hi = j } else if rank >= i { lo = i } else { return }
        }
    }

    /// Writes log p of each scored cluster for the query `ws` holds into `ws.logp` (−∞ for a
    /// cluster with none).
    public func logProbabilities(_ ws: Workspace) {
        let p = ws.scored
        switch calibration {
        case .learned:
            let sc = scorer!
            ws.features.withUnsafeBufferPointer { fb in
                ws.act.withUnsafeMutableBufferPointer { a in
                    for li in 0..<p { ws.logp[li] = sc.logit(fb.baseAddress! + li * CandidateScorer.featureCount, act: a.baseAddress!) }
                }
            }
        case .temperature:
            var best = Float.infinity
            for li in 0..<p { best = min(best, ws.best[3 * li]) }
            for li in 0..<p { ws.logp[li] = ws.best[3 * li].isFinite ? -(ws.best[3 * li] - best) / temperature : -.infinity }
        }
        var mx = -Float.infinity
        for li in 0..<p { mx = max(mx, ws.logp[li]) }
        guard mx.isFinite else { return }
        var sum: Float = 0
        for li in 0..<p where ws.logp[li].isFinite { sum += Glibc.expf(ws.logp[li] - mx) }
        let lse = mx + Glibc.logf(sum)
        for li in 0..<p { ws.logp[li] -= lse }
    }

    public func score(queries: UnsafePointer<Float>, n: Int, dim: Int, into scores: UnsafeMutablePointer<Float>) {
        let k = clusterCount
        coarse.score(queries: queries, n: n, dim: dim, into: scores)
        let ws = Workspace(self)
        for i in 0..<n {
            let q = queries + i * dim, row = scores + i * k
            examine(q, centroidRow: row, squaredNorm: Kernels.dot(q, q, dim), into: ws)
            var lo = Float.infinity, hi = -Float.infinity
            for c in 0..<k { lo = min(lo, row[c]); hi = max(hi, row[c]) }
            let span = hi > lo ? hi - lo : 1
            for c in 0..<k { row[c] = Self.unscored + (row[c] - lo) / span }
            logProbabilities(ws)
            for li in 0..<ws.scored where ws.logp[li].isFinite { row[ws.listed[li]] = -ws.logp[li] }
        }
    }
}
