import ANNKit
import Glibc
import Testing

/// Finite input that would overflow float32 distances is refused at the door, the library never
/// leaves a vector out when a distance is not finite all the same, and no header count or
/// dimension sizes an allocation before the file's length or the arriving data confirms it.
@Suite struct InputBoundsTests {
    static let dim = 16

    /// 50 small vectors; record 17 has every component 2e18 (squared norm 6.4e+37, over the limit).
    static func withHugeRecord(_ value: Float = 2e18) -> [Float] {
        var v = (0..<(50 * dim)).map { Float($0 % 97) }
        for j in 0..<dim { v[17 * dim + j] = value }
        return v
    }

    static func zstd(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8]()
        try bytes.withUnsafeBytes { try Zstd.compress($0, level: 1, into: &out) }
        return out
    }

    static func peakRSS() -> Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return u.ru_maxrss * 1024
    }

    func refusal(_ bytes: [UInt8], name: String, _ body: (String) throws -> Void) throws -> ANNError? {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/\(name)"
            try writeBytes(bytes, to: path)
            return annError { try body(path) }
        }
    }

    @Test(arguments: ["a.fvecs", "a.fbin", "a.annv", "a.fvecs.zst"])
    func hugeNormRefusedInEveryFloatForm(_ name: String) throws {
        let v = Self.withHugeRecord()
        var bytes: [UInt8]
        switch name {
        case "a.fbin": bytes = Encode.fbin(v, dim: Self.dim)
        case "a.annv": bytes = Encode.header(dim: UInt32(Self.dim), count: 50) + Encode.floats(v)
        default: bytes = Encode.fvecs(v, dim: Self.dim)
        }
        if name.hasSuffix(".zst") { bytes = try Self.zstd(bytes) }
        let e = try refusal(bytes, name: name) { _ = try VectorReader(path: $0).readAll() }
        guard case .badData(_, let message)? = e else { Issue.record("expected bad data, got \(String(describing: e))"); return }
        #expect(message == "record 17: squared norm 6.4e+37 is too large: distances would overflow float32")
    }

    /// At the limit a vector is accepted, and the farthest two such vectors can be are still a
    /// finite distance apart, ranked like any other.
    @Test func normAtTheLimitIsAcceptedAndDistancesStayFinite() throws {
        let c = Float((NormLimit.maxSquaredNorm / Double(Self.dim)).squareRoot()) * 0.9999
        let x = [Float](repeating: c, count: Self.dim), y = [Float](repeating: -c, count: Self.dim)
        try withTemporaryDirectory { dir in
            try writeBytes(Encode.fvecs(x + y, dim: Self.dim), to: "\(dir)/b.fvecs")
            let base = try VectorReader(path: "\(dir)/b.fvecs")
            let list = try GroundTruth.compute(queries: x, dim: Self.dim, base: base, k: 2, metric: .l2)
            let ids = Array(list.row(0)), finite = list.rowDistances(0).allSatisfy { $0.isFinite }
            #expect(ids == [0, 1] && finite)
            let ip = try GroundTruth.compute(queries: x, dim: Self.dim, base: try VectorReader(path: "\(dir)/b.fvecs"), k: 2, metric: .ip)
            let ipIDs = Array(ip.row(0)), ipFinite = ip.rowDistances(0).allSatisfy { $0.isFinite }
            #expect(ipIDs == [0, 1] && ipFinite)
        }
        let over = [Float](repeating: c * 1.001, count: Self.dim)
        let e = try refusal(Encode.fvecs(x + over, dim: Self.dim), name: "o.fvecs") { _ = try VectorReader(path: $0).readAll() }
        #expect(e?.description.contains("record 1: squared norm") == true, "\(String(describing: e))")
    }

    @Test func uint8NeverExceedsTheLimit() throws {
        // The largest uint8 vector of the largest dimension is far inside the limit.
        #expect(255.0 * 255.0 * Double(1 << 20) < NormLimit.maxSquaredNorm)
        try withTemporaryDirectory { dir in
            try writeBytes(Encode.bvecs([UInt8](repeating: 255, count: 4096), dim: 4096), to: "\(dir)/a.bvecs")
            let v = try VectorReader(path: "\(dir)/a.bvecs").readAll()
            #expect(v.count == 4096 && v.allSatisfy { $0 == 255 })
        }
    }

    @Test func normsAreDescribedWithTwoDigits() {
        #expect(NormLimit.describe(5.12e38) == "5.1e+38")
        #expect(NormLimit.describe(NormLimit.maxSquaredNorm) == "4.3e+37")
        #expect(NormLimit.describe(9.96e5) == "1.0e+06")
        #expect(NormLimit.describe(.infinity) == "inf")
    }

    /// Vectors too large for float32 distances reach k-means only through the library's own
    /// API; they must give an error that names the vector, never a trap or a vector in no cluster.
    @Test func kmeansTrainThrowsInsteadOfTrapping() throws {
        let data = Self.withHugeRecord(1e19)
        var p = KMeansParameters(k: 3)
        p.iterations = 3
        let e = annError {
            _ = try data.withUnsafeBufferPointer { try KMeans.train(data: $0.baseAddress!, n: 50, d: Self.dim, parameters: p) }
        }
        #expect(e == .badData(source: "training vector 17", message: "no finite distance to any of the 3 centroids (values too large for float32 distances)"))
    }

    @Test func kmeansAssignAndReplicationNameTheVector() throws {
        let data = Self.withHugeRecord(1e19)
        let centroids = Array(data[0..<(4 * Self.dim)])
        var labels = [UInt32](repeating: 0, count: 50), dists = [Float](repeating: 0, count: 50)
        let e = annError {
            try data.withUnsafeBufferPointer {
                try KMeans.assign(data: $0.baseAddress!, n: 50, d: Self.dim, centroids: centroids, k: 4, metric: .l2, firstID: 1000,
                                  labels: &labels, distances: &dists)
            }
        }
        #expect(e?.description.hasPrefix("vector 1017: no finite distance") == true, "\(String(describing: e))")
        let rep = Replication(centroids: centroids, dim: Self.dim, metric: .l2)
        let r = annError { _ = try data.withUnsafeBufferPointer { try rep.assign($0.baseAddress!, count: 50, firstID: 2000) } }
        #expect(r?.description.hasPrefix("vector 2017: no finite distance") == true, "\(String(describing: r))")
    }

    /// Large values within the limit: k-means runs (a projection whose sums over many vectors
    /// overflow is skipped, never used) and every vector gets a cluster at a finite distance.
    @Test func kmeansOnLargeValuesWithinTheLimit() throws {
        var rng = RandomGenerator(seed: 3)
        let d = 32, n = 2000
        let data = (0..<(n * d)).map { _ in Float(4e17) * (1 + rng.unit()) }
        var p = KMeansParameters(k: 8)
        p.iterations = 4
        let r = try data.withUnsafeBufferPointer { try KMeans.train(data: $0.baseAddress!, n: n, d: d, parameters: p) }
        let finiteCentroids = r.centroids.allSatisfy { $0.isFinite }
        let usableProjection = r.projection.map { $0.rows.allSatisfy { $0.isFinite } } ?? true
        #expect(finiteCentroids && usableProjection)
        var labels = [UInt32](repeating: 0, count: n), dists = [Float](repeating: 0, count: n)
        try data.withUnsafeBufferPointer {
            try KMeans.assign(data: $0.baseAddress!, n: n, d: d, centroids: r.centroids, k: 8, metric: .l2, projection: r.projection,
                              labels: &labels, distances: &dists)
        }
        let labelled = labels.allSatisfy { $0 < 8 }, finiteDistances = dists.allSatisfy { $0.isFinite }
        #expect(labelled && finiteDistances)
    }

    @Test func searchReportsQueriesItCouldNotFill() {
        let q = [Float](repeating: 1, count: Self.dim)
        var base = [Float](repeating: 2, count: 3 * Self.dim)
        for j in 0..<Self.dim { base[Self.dim + j] = 1e19 }
        let s = q.withUnsafeBufferPointer { qp in
            let s = TopKSearch(queries: qp.baseAddress!, count: 1, dim: Self.dim, k: 3, metric: .l2)
            base.withUnsafeBufferPointer { s.add(base: $0.baseAddress!, n: 3, firstID: 0) }
            return s.firstIncomplete()
        }
        #expect(s?.query == 0 && s?.found == 2)
    }

    @Test func projectionIsBoundedByDimension() {
        let d = Projection.maxDimension + 8
        let data = [Float](repeating: 1, count: 4 * d)
        #expect(data.withUnsafeBufferPointer { Projection.principal(of: $0.baseAddress!, n: 4, d: d, m: 16) } == nil)
    }

    /// A neighbour list whose header claims 2^16 rows of 2^20 neighbours (256 GiB) in a
    /// 96-byte file: refused as truncated, from a file (its length) or through zstd (rows
    /// grow as they arrive), without the allocation.
    @Test(arguments: [false, true])
    func neighborListHostileCount(_ compressed: Bool) throws {
        var b = Encode.header(magic: "ANNN", type: 0, metric: 1, dim: 1 << 20, count: 1 << 16) + [UInt8](repeating: 0, count: 64)
        if compressed { b = try Self.zstd(b) }
        let before = Self.peakRSS()
        let e = try refusal(b, name: compressed ? "gt.annn.zst" : "gt.annn") { _ = try NeighborList.load($0) }
        #expect(e?.exitCode == 65 && e?.description.contains("truncated") == true, "\(String(describing: e))")
        #expect(Self.peakRSS() - before < 256 << 20)
    }

    @Test(arguments: [false, true])
    func integerRecordsHostileCount(_ compressed: Bool) throws {
        var b = Encode.le(UInt32.max) + Encode.le(UInt32(1 << 20)) + [UInt8](repeating: 0, count: 88)
        if compressed { b = try Self.zstd(b) }
        let before = Self.peakRSS()
        let e = try refusal(b, name: compressed ? "gt.ibin.zst" : "gt.ibin") { _ = try NeighborList.load($0) }
        #expect(e?.exitCode == 65 && e?.description.contains("truncated") == true, "\(String(describing: e))")
        #expect(Self.peakRSS() - before < 256 << 20)
    }

    /// A native vector stream's count is checked against the file's length when it opens.
    @Test func nativeVectorCountAgainstFileLength() throws {
        let e = try refusal(Encode.header(dim: 1 << 20, count: 1 << 40) + Encode.floats([1, 2, 3, 4]), name: "v.annv") { _ = try VectorReader(path: $0) }
        #expect(e?.description.contains("truncated: the header says 1099511627776 records of dimension 1048576") == true, "\(String(describing: e))")
    }

    /// A sample larger than the input holds only the input; a huge dimension allocates no
    /// block ahead of the data.
    @Test func samplerGrowsWithTheData() throws {
        try withTemporaryDirectory { dir in
            let v = (0..<(30 * Self.dim)).map { Float($0) }
            try writeBytes(Encode.fvecs(v, dim: Self.dim), to: "\(dir)/a.fvecs")
            let before = Self.peakRSS()
            let s = try Sampler.read(try VectorReader(path: "\(dir)/a.fvecs"), size: 1 << 30, seed: 1)
            #expect(s.count == 30 && s.total == 30 && s.data == v)
            try writeBytes(Encode.le(Int32(1 << 20)) + Encode.floats((0..<16).map(Float.init)), to: "\(dir)/wide.fvecs")
            let e = annError { _ = try Sampler.read(try VectorReader(path: "\(dir)/wide.fvecs"), size: 5, seed: 1) }
            #expect(e?.description.contains("truncated") == true)
            #expect(Self.peakRSS() - before < 256 << 20)
        }
    }
}
