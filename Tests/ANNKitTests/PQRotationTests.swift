@testable import ANNKit
import Foundation
import Testing

/// The PQ router's learnt rotation (OPQ): orthogonal, a better code of correlated data, the
/// same distances through its tables, and refused in a model when it is not orthogonal.
@Suite struct PQRotationTests {
    /// 16-d data whose spread sits in a few correlated directions, as SIFT's does: a plain
    /// split into 4 subspaces gives some of them nothing to code.
    static func correlated(n: Int, d: Int = 16) -> [Float] {
        var rng = RandomGenerator(seed: 11)
        var mix = [Float](repeating: 0, count: d * d)
        for i in mix.indices { mix[i] = rng.gaussian() }
        var data = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let z = (0..<d).map { j in rng.gaussian() * 40 / Float(1 + j * j) }
            for u in 0..<d { data[i * d + u] = (0..<d).reduce(Float(0)) { $0 + mix[u * d + $1] * z[$1] } }
        }
        return data
    }

    /// Mean squared error of `pq`'s codes of the data: its table of a vector read at the
    /// vector's own code.
    static func distortion(_ pq: ProductQuantizer, _ data: [Float], n: Int) -> Double {
        let d = pq.dim, m = pq.m
        var codes = [UInt8](repeating: 0, count: n * m)
        var table = [Float](repeating: 0, count: m * 256)
        data.withUnsafeBufferPointer { x in codes.withUnsafeMutableBufferPointer { pq.encode(x.baseAddress!, n: n, into: $0.baseAddress!) } }
        var total = 0.0
        for i in 0..<n {
            data.withUnsafeBufferPointer { x in table.withUnsafeMutableBufferPointer { pq.table(x.baseAddress! + i * d, metric: .l2, into: $0.baseAddress!) } }
            total += Double(table.withUnsafeBufferPointer { t in codes.withUnsafeBufferPointer { ProductQuantizer.lookup(t.baseAddress!, code: $0.baseAddress! + i * m, m: m) } })
        }
        return total / Double(n)
    }

    @Test func theRotationIsOrthogonalAndCodesCorrelatedDataBetter() throws {
        let n = 4000, d = 16, m = 4
        let data = Self.correlated(n: n)
        let plain = try data.withUnsafeBufferPointer { try ProductQuantizer.train($0.baseAddress!, n: n, dim: d, m: m, iterations: 10, seed: 1) }
        let rotated = try data.withUnsafeBufferPointer {
            try ProductQuantizer.trainRotated($0.baseAddress!, n: n, dim: d, m: m, rounds: 6, roundSample: n, roundIterations: 6, iterations: 10, seed: 1)
        }
        #expect(!plain.rotated && rotated.rotated && rotated.rotation.count == d * d)
        for i in 0..<d {
            for j in 0..<d {
                let dot = (0..<d).reduce(Float(0)) { $0 + rotated.rotation[i * d + $1] * rotated.rotation[j * d + $1] }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-4, "row \(i) · row \(j) = \(dot)")
            }
        }
        let before = Self.distortion(plain, data, n: n), after = Self.distortion(rotated, data, n: n)
        #expect(after < 0.8 * before, "distortion \(after) rotated against \(before) plain")
        // Zero rounds learn no rotation worth the name: the identity.
        let none = try data.withUnsafeBufferPointer { try ProductQuantizer.trainRotated($0.baseAddress!, n: n, dim: d, m: m, rounds: 0, roundSample: n, roundIterations: 2, iterations: 10, seed: 1) }
        #expect(none.rotation == (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1 : 0 })
    }

    /// A rotated quantizer's table estimates the distance to the code's vector in the original
    /// space (Rᵀ·y), and minus the inner product with it: the rotation changes neither.
    @Test func rotatedTablesGiveDistancesInTheOriginalSpace() throws {
        let n = 2000, d = 16, m = 4
        let data = Self.correlated(n: n)
        let pq = try data.withUnsafeBufferPointer {
            try ProductQuantizer.trainRotated($0.baseAddress!, n: n, dim: d, m: m, rounds: 2, roundSample: n, roundIterations: 4, iterations: 5, seed: 2)
        }
        var codes = [UInt8](repeating: 0, count: 20 * m)
        data.withUnsafeBufferPointer { x in codes.withUnsafeMutableBufferPointer { pq.encode(x.baseAddress!, n: 20, into: $0.baseAddress!) } }
        let q = (0..<d).map { Float($0) * 3 - 20 }
        var table = [Float](repeating: 0, count: m * 256)
        for metric in [Metric.l2, .ip] {
            q.withUnsafeBufferPointer { qp in table.withUnsafeMutableBufferPointer { pq.table(qp.baseAddress!, metric: metric, into: $0.baseAddress!) } }
            for i in 0..<20 {
                var y = [Float](repeating: 0, count: d)
                codes.withUnsafeBufferPointer { c in y.withUnsafeMutableBufferPointer { pq.decodeRotated(c.baseAddress! + i * m, into: $0.baseAddress!) } }
                let x = (0..<d).map { u in (0..<d).reduce(Float(0)) { $0 + pq.rotation[$1 * d + u] * y[$1] } }
                let want = metric == .l2 ? zip(q, x).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } : -zip(q, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let got = table.withUnsafeBufferPointer { t in codes.withUnsafeBufferPointer { ProductQuantizer.lookup(t.baseAddress!, code: $0.baseAddress! + i * m, m: m) } }
                #expect(abs(got - want) <= 1e-3 * max(1, abs(want)), "\(metric) vector \(i): \(got) vs \(want)")
            }
        }
    }

    /// A model whose rotation is not orthogonal, or whose calibration byte sets an unknown bit,
    /// is refused even under a valid checksum.
    @Test func aForgedRotationOrModeIsRefused() throws {
        let problem = try RouterProblem.get()
        try withTemporaryDirectory { dir in
            let (index, router) = try PQRouterTests.saved(problem, in: dir)
            #expect(router.quantizer.rotated)
            let good = try readBytes("\(dir)/m.annm")
            _ = try ModelFile(path: "\(dir)/m.annm", for: index).router()
            func resealed(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
                var b = good
                edit(&b)
                let body = Array(b[StreamHeader.size..<(b.count - 4)])
                b.replaceSubrange((b.count - 4)..<b.count, with: Encode.le(Checksum.crc32c(body)))
                return b
            }
            let fixed = StreamHeader.size, rotation = fixed + ModelLayout.fixedSize + 4 * 256 * index.dim
            let cases: [(String, [UInt8], String)] = [
                ("scaled", resealed { b in
                    let v = Float(bitPattern: b.loadLE(at: rotation) as UInt32) * 2 + 0.5
                    b.replaceSubrange(rotation..<(rotation + 4), with: Encode.le(v.bitPattern))
                }, "not orthogonal"),
                ("mode", resealed { b in b[fixed + 16] |= 4 }, "unknown PQ calibration"),
            ]
            for (name, bytes, words) in cases {
                try writeBytes(bytes, to: "\(dir)/\(name).annm")
                let e = annError { _ = try ModelFile(path: "\(dir)/\(name).annm", for: index).router() }
                #expect(e.map { "\($0)".contains(words) } == true, "\(name): \(String(describing: e))")
            }
        }
    }
}
