import ANNKit
import Testing

/// Exact search must equal brute force, ties broken by the smaller id. On SIFT every value is
/// a small integer, so squared distances and inner products are integers below 2^24: exact in
/// float32 whatever the order of summation, which lets l2 and ip be compared bit for bit.
@Suite struct GroundTruthTests {
    /// The first 3,000 siftsmall base vectors, then 600 exact copies of earlier ones (so that
    /// ties exist and the copy always has the larger id), and as queries the 100 siftsmall
    /// queries plus 40 base vectors that have copies (distance 0, tied).
    struct Fixture {
        var dim: Int
        var base: [Float]
        var queries: [Float]
        var copies: [(original: Int, copy: Int)]
    }

    static func fixture() throws -> Fixture {
        let sift = try SampleData.siftBase()
        let d = sift.dim
        var base = Array(sift.values[0..<(3000 * d)])
        var rng = RandomGenerator(seed: 7)
        var copies: [(Int, Int)] = []
        for c in 0..<600 {
            let original = rng.below(3000)
            base += sift.row(original)
            copies.append((original, 3000 + c))
        }
        var queries = try SampleData.siftQueries().values
        for (original, _) in copies.prefix(40) { queries += sift.row(original) }
        return Fixture(dim: d, base: base, queries: queries, copies: copies)
    }

    /// Brute force in double precision: every (distance, id) of one query, nearest first.
    static func bruteForce(_ f: Fixture, query q: Int, metric: Metric) -> [(distance: Double, id: Int)] {
        let d = f.dim
        let n = f.base.count / d
        func norm(_ v: ArraySlice<Float>) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        let qv = f.queries[(q * d)..<((q + 1) * d)]
        let qn = norm(qv)
        var all: [(distance: Double, id: Int)] = []
        all.reserveCapacity(n)
        for i in 0..<n {
            let x = f.base[(i * d)..<((i + 1) * d)]
            var s = 0.0
            for (a, b) in zip(qv, x) {
                s += metric == .l2 ? (Double(a) - Double(b)) * (Double(a) - Double(b)) : Double(a) * Double(b)
            }
            switch metric {
            case .l2: all.append((s, i))
            case .ip: all.append((-s, i))
            case .cos: all.append((-s / (qn * norm(x)), i))
            }
        }
        all.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        return all
    }

    func compute(_ f: Fixture, k: Int, metric: Metric, blockSize: Int) throws -> NeighborList {
        try withTemporaryDirectory { dir in
            try writeNativeVectors(f.base, dim: f.dim, to: "\(dir)/base.annv")
            let reader = try VectorReader(path: "\(dir)/base.annv")
            var reported: [Int] = []
            let list = try GroundTruth.compute(queries: f.queries, dim: f.dim, base: reader, k: k, metric: metric,
                                               blockSize: blockSize) { done, _ in reported.append(done) }
            // Progress is reported per block, up to the whole base.
            #expect(reported.last == f.base.count / f.dim)
            #expect(reported == reported.sorted())
            return list
        }
    }

    /// Small blocks make the base arrive in several pieces, so the projected screen of l2
    /// (used from the second block on) is exercised too.
    @Test(arguments: [Metric.l2, .ip])
    func equalsBruteForceExactly(_ metric: Metric) throws {
        let f = try Self.fixture()
        let k = 20
        let list = try compute(f, k: k, metric: metric, blockSize: 700)
        #expect(list.k == k)
        #expect(list.metric == metric)
        #expect(list.count == f.queries.count / f.dim)
        for q in 0..<list.count {
            let expected = Self.bruteForce(f, query: q, metric: metric).prefix(k)
            #expect(Array(list.row(q)) == expected.map { UInt32($0.id) }, "query \(q)")
            #expect(Array(list.rowDistances(q)) == expected.map { Float(metric == .l2 ? $0.distance : -$0.distance) }, "query \(q)")
        }
    }

    /// Cosine normalises in float32, so values are compared with a tolerance; ties between exact
    /// copies stay exact (the same bytes normalise the same way) and must go to the smaller id.
    @Test func cosineMatchesBruteForce() throws {
        let f = try Self.fixture()
        let k = 20
        let list = try compute(f, k: k, metric: .cos, blockSize: 1000)
        let copyOf = Dictionary(f.copies.map { ($0.copy, $0.original) }, uniquingKeysWith: { a, _ in a })
        for q in 0..<list.count {
            let expected = Self.bruteForce(f, query: q, metric: .cos)
            let ids = Array(list.row(q)), sims = Array(list.rowDistances(q))
            for j in 0..<k {
                #expect(abs(Double(sims[j]) + expected[j].distance) < 1e-5, "query \(q) rank \(j)")
                if j > 0 { #expect(sims[j] <= sims[j - 1], "query \(q): similarities descend") }
                if let original = copyOf[Int(ids[j])] {
                    // A copy may only follow its original, which has the same similarity.
                    let at = ids.firstIndex(of: UInt32(original))
                    #expect(at != nil && at! < j, "query \(q): copy \(ids[j]) before original \(original)")
                }
            }
            // Where brute force sees a clear gap, the id must be the same.
            for j in 0..<k where (j == 0 || expected[j].distance - expected[j - 1].distance > 1e-5)
                && expected[j + 1].distance - expected[j].distance > 1e-5 {
                #expect(Int(ids[j]) == expected[j].id, "query \(q) rank \(j)")
            }
        }
    }

    @Test func queriesThatAreBaseVectorsFindThemselvesFirst() throws {
        let f = try Self.fixture()
        let list = try compute(f, k: 2, metric: .l2, blockSize: 65536)
        let d = f.dim
        for i in 0..<40 {
            let q = 100 + i
            let query = f.queries[(q * d)..<((q + 1) * d)]
            // SIFT itself may hold duplicates: the expected answer is the first equal vector.
            let equal = (0..<(f.base.count / d)).filter { f.base[($0 * d)..<(($0 + 1) * d)] == query }
            #expect(equal.count >= 2)
            #expect(Array(list.rowDistances(q)) == [0, 0])
            #expect(Array(list.row(q)) == equal.prefix(2).map(UInt32.init), "query \(q)")
        }
    }

    @Test func refusesKLargerThanTheBaseAndMismatchedDimensions() throws {
        try withTemporaryDirectory { dir in
            try writeNativeVectors((0..<40).map { Float($0) }, dim: 4, to: "\(dir)/b.annv")
            let e = annError {
                _ = try GroundTruth.compute(queries: [0, 0, 0, 0], dim: 4, base: try VectorReader(path: "\(dir)/b.annv"), k: 11, metric: .l2)
            }
            #expect(e?.exitCode == 64)
            let m = annError {
                _ = try GroundTruth.compute(queries: [0, 0, 0], dim: 3, base: try VectorReader(path: "\(dir)/b.annv"), k: 1, metric: .l2)
            }
            #expect(m?.exitCode == 65)
            // With a base of unknown length, k is checked once the base has been read.
            try writeBytes(Encode.header(dim: 4, count: UInt64.max) + Encode.floats((0..<40).map { Float($0) }), to: "\(dir)/u.annv")
            let u = annError {
                _ = try GroundTruth.compute(queries: [0, 0, 0, 0], dim: 4, base: try VectorReader(path: "\(dir)/u.annv"), k: 11, metric: .l2)
            }
            #expect(u?.exitCode == 64)
        }
    }
}
