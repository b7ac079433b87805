@testable import ANNKit
import Testing

/// The PQ router's scan: its interleaved lookups, its tables and its early refusal of codes
/// that cannot enter the candidate heap give exactly what a plain scan of every code gives.
@Suite struct PQScanTests {
    static func randomQuantizer(dim: Int, m: Int, rotated: Bool, rng: inout RandomGenerator) -> ProductQuantizer {
        var books = [Float](repeating: 0, count: ProductQuantizer.words * dim)
        for i in books.indices { books[i] = rng.gaussian() * 3 }
        var rotation: [Float] = []
        if rotated {
            // A signed permutation: orthogonal, and every row's product has a tail past 16.
            rotation = [Float](repeating: 0, count: dim * dim)
            for i in 0..<dim { rotation[i * dim + (i * 7 + 3) % dim] = i % 3 == 0 ? -1 : 1 }
        }
        return ProductQuantizer(dim: dim, m: m, codebooks: books, rotation: rotation)
    }

    @Test func fourCodesAtATimeSumAsOne() {
        var rng = RandomGenerator(seed: 11)
        for m in [1, 2, 5, 23] {
            var table = [Float](repeating: 0, count: m * 256)
            for i in table.indices { table[i] = rng.gaussian() * 1000 }
            var codes = [UInt8](repeating: 0, count: 4 * m)
            for i in codes.indices { codes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            table.withUnsafeBufferPointer { t in
                codes.withUnsafeBufferPointer { c in
                    let half = ProductQuantizer.lookup4(t.baseAddress!, code: c.baseAddress!, m: m, from: 0, to: m / 2, start: .zero)
                    let all = ProductQuantizer.lookup4(t.baseAddress!, code: c.baseAddress!, m: m, from: m / 2, to: m, start: half)
                    for j in 0..<4 {
                        #expect(all[j] == ProductQuantizer.lookup(t.baseAddress!, code: c.baseAddress! + j * m, m: m), "m \(m), code \(j)")
                    }
                }
            }
        }
    }

    /// Each term is summed over its subspace's dimensions in order from zero, as a scalar loop.
    @Test(arguments: [Metric.l2, .ip])
    func tableTermsAreThoseOfAScalarLoop(_ metric: Metric) {
        var rng = RandomGenerator(seed: 5)
        let dim = 19, m = 5
        let pq = Self.randomQuantizer(dim: dim, m: m, rotated: false, rng: &rng)
        let x = (0..<dim).map { _ in rng.gaussian() * 3 }
        var table = [Float](repeating: 0, count: m * 256)
        x.withUnsafeBufferPointer { xp in table.withUnsafeMutableBufferPointer { pq.table(xp.baseAddress!, metric: metric, into: $0.baseAddress!) } }
        for s in 0..<m {
            for j in 0..<256 {
                var acc: Float = 0
                for u in 0..<pq.width(s) {
                    let w = pq.codebooks[(pq.bounds[s] + u) * 256 + j], xu = x[pq.bounds[s] + u]
                    if metric == .l2 { let t = xu - w; acc += t * t } else { acc -= xu * w }
                }
                #expect(table[s * 256 + j] == acc, "subspace \(s), word \(j)")
            }
        }
    }

    @Test func rotationIsTheMatrixProduct() {
        var rng = RandomGenerator(seed: 9)
        for dim in [7, 19, 32, 33] {
            var r = [Float](repeating: 0, count: dim * dim)
            for i in r.indices { r[i] = rng.gaussian() }
            let pq = ProductQuantizer(dim: dim, m: 1, codebooks: [Float](repeating: 0, count: 256 * dim), rotation: r)
            let x = (0..<dim).map { _ in rng.gaussian() }
            var out = [Float](repeating: 0, count: dim)
            x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { pq.rotate(xp.baseAddress!, into: $0.baseAddress!) } }
            for i in 0..<dim {
                let want = (0..<dim).reduce(0.0) { $0 + Double(r[i * dim + $1]) * Double(x[$1]) }
                #expect(abs(Double(out[i]) - want) <= 1e-5 * max(1, abs(want)), "dim \(dim), row \(i)")
            }
        }
    }

    /// The candidates examine keeps (per scored cluster: how many, and the three best) are the
    /// `candidates` smallest of every scored cluster's code distances, each computed alone.
    @Test(arguments: [(Metric.l2, false), (.l2, true), (.ip, true)])
    func theCandidatesAreThoseOfAPlainScan(_ metric: Metric, _ rotated: Bool) {
        var rng = RandomGenerator(seed: rotated ? 2 : 1)
        let dim = 19, m = 5, k = 12
        let pq = Self.randomQuantizer(dim: dim, m: m, rotated: rotated, rng: &rng)
        let sizes = (0..<k).map { _ in 50 + Int(rng.next() % 350) }
        let coded = sizes.map { $0 - Int(rng.next() % 20) }
        var codes = [UInt8](repeating: 0, count: coded.reduce(0, +) * m)
        for i in codes.indices { codes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        let centroids = (0..<(k * dim)).map { _ in rng.gaussian() * 4 }
        let router = PQRouter(dim: dim, metric: metric, fingerprint: 0, quantizer: pq, lists: 8, candidates: 100,
                              calibration: .temperature, temperature: 1, scorer: nil, membership: 0, codes: codes,
                              coded: coded, sizes: sizes, centroids: centroids)
        let ws = PQRouter.Workspace(router)
        for query in 0..<30 {
            let q = (0..<dim).map { _ in rng.gaussian() * 5 }
            var row = [Float](repeating: 0, count: k)
            q.withUnsafeBufferPointer { qp in row.withUnsafeMutableBufferPointer { router.coarse.score(queries: qp.baseAddress!, n: 1, dim: dim, into: $0.baseAddress!) } }
            let norm = q.reduce(0) { $0 + $1 * $1 }
            q.withUnsafeBufferPointer { qp in row.withUnsafeBufferPointer { router.examine(qp.baseAddress!, centroidRow: $0.baseAddress!, squaredNorm: norm, into: ws) } }
            let listed = (0..<k).sorted { row[$0] < row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(8)
            #expect(Array(ws.listed.prefix(ws.scored)) == Array(listed), "query \(query)")
            // Every code of every scored cluster, its distance computed alone.
            var all: [(Float, Int)] = []
            var table = [Float](repeating: 0, count: m * 256)
            for (li, c) in listed.enumerated() {
                let x = metric == .l2 ? (0..<dim).map { q[$0] - centroids[c * dim + $0] } : q
                x.withUnsafeBufferPointer { xp in table.withUnsafeMutableBufferPointer { pq.table(xp.baseAddress!, metric: metric, into: $0.baseAddress!) } }
                let constant = metric == .l2 ? 0 : row[c]
                for v in router.offsets[c]..<router.offsets[c + 1] {
                    let d = table.withUnsafeBufferPointer { t in codes.withUnsafeBufferPointer { ProductQuantizer.lookup(t.baseAddress!, code: $0.baseAddress! + v * m, m: m) } }
                    all.append((constant + d, li))
                }
            }
            all.sort { $0.0 < $1.0 }
            let kept = all.prefix(router.candidates)
            // The heap keeps the same distances; which of equal ones at the edge is a heap's choice.
            #expect(kept.map(\.0) == (0..<router.candidates).map { ws.heapDistance[$0] }.sorted(), "query \(query)")
            guard all[router.candidates].0 > all[router.candidates - 1].0 else { continue }
            for li in 0..<listed.count {
                let mine = kept.filter { $0.1 == li }.map(\.0)
                #expect(ws.count[li] == mine.count, "query \(query), list \(li)")
                for j in 0..<3 { #expect(ws.best[3 * li + j] == (j < mine.count ? mine[j] : .infinity), "query \(query), list \(li)") }
            }
        }
    }
}
