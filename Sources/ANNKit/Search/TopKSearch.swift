/// Exact k-nearest-neighbour search of a set of queries over base vectors that arrive in
/// blocks, in id order.
///
/// sgemm in the ‖q‖² − 2q·x + ‖x‖² form only *screens* candidates; every candidate that may
/// enter a query's top k is re-measured directly (Σ(q−x)² or −Σq·x), so rounding in the
/// expanded form never changes a result. For l2 the screen can run on a principal-component
/// `Projection`: the projected distance is a lower bound of the true one, so a candidate whose
/// bound already exceeds the query's k-th distance is safely skipped, and sgemm does a quarter
/// of the work. Should the bound prove loose on some data (more than `fallbackRate` of the
/// pairs survive the screen), the search falls back to the full dimension. Ties go to the
/// smaller id: ids arrive in order and comparisons are strict.
///
/// Threading: `add` splits the queries into tiles across all cores, each tile calling
/// single-threaded sgemm; results do not depend on the number of threads.
public final class TopKSearch {
    public let k: Int
    public let dim: Int
    public let count: Int
    public let metric: Metric
    private let queries: UnsafePointer<Float>
    private let queryNorms: UnsafeMutablePointer<Float>
    /// The screening form of the queries: projected (count × m), or the queries themselves.
    private var screen: (projection: Projection, queries: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>)?
    /// Per query the k best so far, distances internal (smaller is nearer).
    public let heaps: NeighborHeaps
    /// Pairs screened and pairs re-measured, for the fallback decision and for tests.
    public private(set) var pairsScreened = 0
    public private(set) var pairsMeasured = 0
    /// Base vectors offered to every query since the last reset.
    public private(set) var offered = 0

    static let queryTile = 256
    static let baseChunk = 2048
    static let fallbackRate = 0.08

    /// `queries` (count × dim, unit length for cos) must outlive the search. `projection`
    /// (l2 only) enables the lower-bound screen.
    public init(queries: UnsafePointer<Float>, count: Int, dim: Int, k: Int, metric: Metric, projection: Projection? = nil) {
        self.queries = queries
        self.count = count
        self.dim = dim
        self.k = k
        self.metric = metric
        queryNorms = .allocate(capacity: count)
        Kernels.squaredNorms(queries, n: count, d: dim, into: queryNorms)
        heaps = NeighborHeaps(count: count, k: k)
        if let p = projection, metric == .l2, p.d == dim {
            let pq = UnsafeMutablePointer<Float>.allocate(capacity: count * p.m)
            BLAS.setThreads(1)
            parallelRows(count) { r in p.apply(queries + r.lowerBound * dim, n: r.count, into: pq + r.lowerBound * p.m) }
            let pn = UnsafeMutablePointer<Float>.allocate(capacity: count)
            Kernels.squaredNorms(pq, n: count, d: p.m, into: pn)
            screen = (p, pq, pn)
        }
    }

    /// The projection to screen with when searching `queries` under `metric`: the leading
    /// 3/8 of the principal components of the queries, or nil where it cannot help.
    public static func defaultProjection(queries: UnsafePointer<Float>, count: Int, dim: Int, metric: Metric) -> Projection? {
        guard metric == .l2, dim >= 32 else { return nil }
        // 3/8 of the dimension: on SIFT it keeps 92% of the variance and passes 0.3% of pairs.
        let m = max(16, (dim * 3 / 8 + 7) / 8 * 8)
        let n = min(count, 100_000)
        return Projection.principal(of: queries, n: n, d: dim, m: m)
    }

    deinit {
        queryNorms.deallocate()
        if let s = screen { s.queries.deallocate(); s.norms.deallocate() }
    }

    private func dropScreen() {
        if let s = screen { s.queries.deallocate(); s.norms.deallocate() }
        screen = nil
    }

    /// Forgets all neighbours found so far, to search the same queries again (k-means
    /// iterations reuse the queries' norms and projection).
    public func reset() {
        heaps.reset()
        pairsScreened = 0
        pairsMeasured = 0
        offered = 0
    }

    /// Offers `n` base vectors with ids `firstID ..< firstID + n` to every query.
    /// `hints` (k = 1 only) names, per query, a base vector likely to be its nearest (last
    /// iteration's centroid): measured first, it tightens the screen from the start.
    public func add(base: UnsafePointer<Float>, n: Int, firstID: Int, hints: UnsafePointer<UInt32>? = nil) {
        guard n > 0 else { return }
        precondition(hints == nil || k == 1)
        // Cold heaps make a loose screen: warm them on a few base vectors at full dimension.
        if screen != nil && pairsScreened == 0 && hints == nil && k == 1 && n > 256 {
            add(base: base, n: 64, firstID: firstID)
            add(base: base + 64 * dim, n: n - 64, firstID: firstID + 64)
            return
        }
        BLAS.setThreads(1)
        if let hints {
            parallelRows(count) { r in
                for q in r {
                    let h = Int(hints[q]) - firstID
                    guard h >= 0 && h < n else { continue }
                    let exact = Kernels.distance(self.metric, self.queries + q * self.dim, base + h * self.dim, self.dim)
                    // A NaN kept here would make the heap's bound NaN and shut out every other candidate.
                    if !exact.isNaN { self.heaps.offer(q, exact, UInt32(firstID + h)) }
                }
            }
        }
        let baseNorms = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { baseNorms.deallocate() }
        Kernels.squaredNorms(base, n: n, d: dim, into: baseNorms)
        var maxBaseNorm: Float = 0
        for i in 0..<n { maxBaseNorm = max(maxBaseNorm, baseNorms[i]) }

        var screenBase = base
        var screenNorms = baseNorms
        var screenQueries = queries
        var screenQueryNorms = UnsafePointer(queryNorms)
        var sd = dim
        var projected: UnsafeMutablePointer<Float>?
        var projectedNorms: UnsafeMutablePointer<Float>?
        // The first block fills the heaps: their thresholds are loose, so the bound would pass
        // most pairs; screen it on the full dimension.
        if let s = screen, pairsScreened > 0 || hints != nil {
            sd = s.projection.m
            let pb = UnsafeMutablePointer<Float>.allocate(capacity: n * sd)
            parallelRows(n) { r in s.projection.apply(base + r.lowerBound * self.dim, n: r.count, into: pb + r.lowerBound * sd) }
            let pn = UnsafeMutablePointer<Float>.allocate(capacity: n)
            Kernels.squaredNorms(pb, n: n, d: sd, into: pn)
            projected = pb
            projectedNorms = pn
            screenBase = UnsafePointer(pb)
            screenNorms = pn
            screenQueries = UnsafePointer(s.queries)
            screenQueryNorms = UnsafePointer(s.norms)
        }
        defer { projected?.deallocate(); projectedNorms?.deallocate() }

        let tiles = (count + Self.queryTile - 1) / Self.queryTile
        let measured = UnsafeMutablePointer<Int>.allocate(capacity: tiles)
        defer { measured.deallocate() }
        let job = Tile(screenQueries: screenQueries, screenQueryNorms: screenQueryNorms, screenBase: screenBase,
                       screenBaseNorms: UnsafePointer(screenNorms), screenDim: sd, base: base, maxBaseNorm: maxBaseNorm,
                       n: n, firstID: firstID)
        Parallel.forEach(tiles) { t in
            let q0 = t * Self.queryTile
            measured[t] = self.search(job, queries: q0..<min(count, q0 + Self.queryTile))
        }
        let blockMeasured = (0..<tiles).reduce(0) { $0 + measured[$1] }
        // The first block fills the heaps and says little about the bound; judge the next ones.
        if screen != nil && pairsScreened > 0 && Double(blockMeasured) > Self.fallbackRate * Double(n * count) { dropScreen() }
        pairsScreened += n * count
        pairsMeasured += blockMeasured
        offered += n
    }

    /// The first query holding fewer than min(k, offered) neighbours, and how many it holds:
    /// a candidate whose distance was not finite (+inf or NaN) can rank nowhere and was left
    /// out. Callers refuse such a result rather than pad it with `NeighborList.noID`.
    public func firstIncomplete() -> (query: Int, found: Int)? {
        let want = min(k, offered)
        for q in 0..<count where heaps.size(q) < want { return (q, heaps.size(q)) }
        return nil
    }

    private struct Tile {
        var screenQueries: UnsafePointer<Float>
        var screenQueryNorms: UnsafePointer<Float>
        var screenBase: UnsafePointer<Float>
        var screenBaseNorms: UnsafePointer<Float>
        var screenDim: Int
        var base: UnsafePointer<Float>
        var maxBaseNorm: Float
        var n: Int
        var firstID: Int
    }

    /// Screens and merges one tile of queries against the whole block; returns the pairs
    /// re-measured exactly.
    private func search(_ job: Tile, queries rows: Range<Int>) -> Int {
        let chunk = Self.baseChunk
        let dots = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * chunk)
        defer { dots.deallocate() }
        let l2 = metric == .l2
        let d = dim, sd = job.screenDim
        var measured = 0
        var c0 = 0
        while c0 < job.n {
            let cn = min(chunk, job.n - c0)
            // l2: v = ‖x‖² − 2q·x, with ‖q‖² moved into the threshold; ip/cos: v = −q·x.
            BLAS.gemmABt(m: rows.count, n: cn, k: sd, alpha: l2 ? -2 : -1, a: job.screenQueries + rows.lowerBound * sd, lda: sd,
                         b: job.screenBase + c0 * sd, ldb: sd, beta: 0, c: dots, ldc: cn)
            for q in rows {
                let qp = queries + q * d
                // Slack for float rounding in the expanded and projected forms (≪ 2⁻¹⁵ of the scale).
                let slack = (queryNorms[q] + job.maxBaseNorm) * 0x1p-15 + Float.leastNormalMagnitude
                let base = job.base + c0 * d
                let first = UInt32(job.firstID + c0)
                measured += heaps.screen(q, row: dots + (q - rows.lowerBound) * cn, norms: l2 ? job.screenBaseNorms + c0 : nil, n: cn,
                                         shift: l2 ? job.screenQueryNorms[q] : 0, slack: slack,
                                         measure: { Kernels.distance(self.metric, qp, base + $0 * d, d) },
                                         id: { first + UInt32($0) })
            }
            c0 += cn
        }
        return measured
    }

    /// The k nearest of each query, nearest first, distances as written in files; rows with
    /// fewer than k neighbours are padded with `NeighborList.noID`.
    public func result() -> NeighborList { heaps.neighborList(metric: metric) }

    /// For k = 1: the nearest id and internal distance of each query.
    public func nearest(into labels: UnsafeMutablePointer<UInt32>, distances: UnsafeMutablePointer<Float>) {
        precondition(k == 1, "the heap root is the nearest only for k = 1")
        for q in 0..<count {
            let f = heaps.first(q)
            labels[q] = f?.id ?? NeighborList.noID
            distances[q] = f?.distance ?? .infinity
        }
    }
}

/// Runs `body` over contiguous row ranges of `0..<n` on all cores.
func parallelRows(_ n: Int, minimum: Int = 4096, _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(64, n / minimum))
    Parallel.forEach(parts) { p in
        body((n * p / parts)..<(n * (p + 1) / parts))
    }
}
