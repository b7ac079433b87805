import ANNKit
import Testing

@Suite struct ProjectionTests {
    static func principal(m: Int, n: Int = 2000) throws -> Projection {
        let sift = try SampleData.siftBase()
        let p = Array(sift.values[0..<(n * sift.dim)]).withUnsafeBufferPointer {
            Projection.principal(of: $0.baseAddress!, n: n, d: sift.dim, m: m)
        }
        return try #require(p)
    }

    @Test(arguments: [16, 48, 127])
    func rowsAreOrthonormal(_ m: Int) throws {
        let p = try Self.principal(m: m)
        #expect(p.m == m && p.d == 128 && p.rows.count == m * 128)
        for i in 0..<m {
            for j in i..<m {
                let dot = (0..<128).reduce(0.0) { $0 + Double(p.rows[i * 128 + $1]) * Double(p.rows[j * 128 + $1]) }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-4, "rows \(i), \(j)")
            }
        }
    }

    /// What the search relies on: projected distances never exceed true ones, and the leading
    /// directions keep most of the spread.
    @Test func projectedDistancesAreLowerBounds() throws {
        let sift = try SampleData.siftBase()
        let d = sift.dim, m = 48
        let p = try Self.principal(m: m)
        let n = 300
        var out = [Float](repeating: 0, count: n * m)
        Array(sift.values[(5000 * d)..<((5000 + n) * d)]).withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { p.apply(x.baseAddress!, n: n, into: $0.baseAddress!) }
        }
        var kept = 0.0, total = 0.0
        for i in 0..<(n - 1) {
            let a = 5000 + i, b = 5000 + i + 1
            let full = zip(sift.row(a), sift.row(b)).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            let proj = (0..<m).reduce(0.0) { $0 + Double(out[i * m + $1] - out[(i + 1) * m + $1]) * Double(out[i * m + $1] - out[(i + 1) * m + $1]) }
            #expect(proj <= full * (1 + 1e-4) + 1e-3, "pair \(i)")
            kept += proj
            total += full
        }
        #expect(kept > 0.5 * total)
    }

    @Test func noProjectionWhereItCannotHelp() {
        let x = [Float](repeating: 1, count: 64)
        x.withUnsafeBufferPointer {
            #expect(Projection.principal(of: $0.baseAddress!, n: 8, d: 8, m: 8) == nil)
            #expect(Projection.principal(of: $0.baseAddress!, n: 1, d: 8, m: 4) == nil)
        }
        #expect(x.withUnsafeBufferPointer { TopKSearch.defaultProjection(queries: $0.baseAddress!, count: 4, dim: 16, metric: .l2) } == nil)
        #expect(x.withUnsafeBufferPointer { TopKSearch.defaultProjection(queries: $0.baseAddress!, count: 2, dim: 32, metric: .ip) } == nil)
    }
}
