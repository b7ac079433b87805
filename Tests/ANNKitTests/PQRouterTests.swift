@testable import ANNKit
import Testing

/// The product quantizer, memory budgets and the PQ router on siftsmall in 16 clusters.
@Suite struct PQRouterTests {
    @Test func subspacesSplitTheDimensionsAsEvenlyAsTheyGo() {
        let pq = ProductQuantizer(dim: 128, m: 15, codebooks: [Float](repeating: 0, count: 256 * 128))
        let widths = (0..<15).map(pq.width)
        #expect(widths.reduce(0, +) == 128 && widths.max()! - widths.min()! == 1 && widths.first == 9 && widths.last == 8)
        #expect(ProductQuantizer(dim: 7, m: 7, codebooks: [Float](repeating: 0, count: 256 * 7)).bounds == Array(0...7))
    }

    /// Codes are each subspace's nearest word, and a table's lookups sum to the distance to
    /// the reconstruction (l2) or minus the inner product with it (ip).
    @Test func encodingAndTablesAgreeWithTheCodebooks() throws {
        let d = 6, m = 2
        var rng = RandomGenerator(seed: 3)
        var data = [Float](repeating: 0, count: 2000 * d)
        for i in data.indices { data[i] = rng.gaussian() * 10 }
        let pq = try data.withUnsafeBufferPointer { try ProductQuantizer.train($0.baseAddress!, n: 2000, dim: d, m: m, iterations: 5, seed: 1) }
        func word(_ s: Int, _ j: Int) -> [Float] { (0..<pq.width(s)).map { pq.codebooks[pq.bounds[s] * 256 + $0 * 256 + j] } }
        var codes = [UInt8](repeating: 0, count: 50 * m)
        data.withUnsafeBufferPointer { x in codes.withUnsafeMutableBufferPointer { pq.encode(x.baseAddress!, n: 50, into: $0.baseAddress!) } }
        for i in 0..<50 {
            for s in 0..<m {
                let x = Array(data[(i * d + pq.bounds[s])..<(i * d + pq.bounds[s + 1])])
                let dist = (0..<256).map { j in zip(x, word(s, j)).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
                #expect(dist[Int(codes[i * m + s])] == dist.min()!, "vector \(i), subspace \(s)")
            }
        }
        let q = (0..<d).map { Float($0) - 2.5 }
        var table = [Float](repeating: 0, count: m * 256)
        for metric in [Metric.l2, .ip] {
            q.withUnsafeBufferPointer { qp in table.withUnsafeMutableBufferPointer { pq.table(qp.baseAddress!, metric: metric, into: $0.baseAddress!) } }
            for i in 0..<50 {
                let r = (0..<m).flatMap { word($0, Int(codes[i * m + $0])) }
                let want = metric == .l2 ? zip(q, r).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } : -zip(q, r).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let got = table.withUnsafeBufferPointer { t in codes.withUnsafeBufferPointer { ProductQuantizer.lookup(t.baseAddress!, code: $0.baseAddress! + i * m, m: m) } }
                #expect(abs(got - want) <= 1e-3 * max(1, abs(want)), "\(metric) vector \(i): \(got) vs \(want)")
            }
        }
    }

    @Test func memoryBudgetsParse() {
        #expect(MemoryBudget("16B/vector") == .perVector(16))
        #expect(MemoryBudget("2.5/vector") == .perVector(2.5))
        #expect(MemoryBudget("12M") == .bytes(12 << 20))
        #expect(MemoryBudget("1.5KB") == .bytes(1536))
        #expect(MemoryBudget("1000") == .bytes(1000))
        #expect(MemoryBudget("1g") == .bytes(1 << 30))
        for bad in ["", "abc", "-1", "0", "0B/vector", "16 B/vector", "12Q", "nanM", "1e30G"] { #expect(MemoryBudget(bad) == nil, "\(bad)") }
        #expect(MemoryBudget.perVector(16).bytes(baseCount: 710_181) == 11_362_896)
    }

    /// The largest code that fits is the largest: one byte more would not fit.
    @Test func codesAreSizedToTheBudget() {
        for budget in [300_000, 1_000_000, 11_362_896] {
            guard let m = PQRouter.largestCode(fitting: budget, dim: 128, clusterCount: 1024, coded: 710_181, hidden: 16, rotated: false) else {
                #expect(budget < PQRouter.footprint(dim: 128, clusterCount: 1024, coded: 710_181, m: 1, hidden: 16, rotated: false)!)
                continue
            }
            #expect(PQRouter.footprint(dim: 128, clusterCount: 1024, coded: 710_181, m: m, hidden: 16, rotated: false)! <= budget)
            #expect(m == 128 || PQRouter.footprint(dim: 128, clusterCount: 1024, coded: 710_181, m: m + 1, hidden: 16, rotated: false)! > budget)
        }
        #expect(PQRouter.largestCode(fitting: 11_362_896, dim: 128, clusterCount: 1024, coded: 710_181, hidden: 16, rotated: false) == 15)
        #expect(PQRouter.largestCode(fitting: 11_362_896, dim: 128, clusterCount: 1024, coded: 355_091, hidden: 16, rotated: false) == 31)
        // A rotation costs its d² floats: 64 KB at d = 128.
        let plain = PQRouter.footprint(dim: 128, clusterCount: 1024, coded: 710_181, m: 15, hidden: 16, rotated: false)!
        #expect(PQRouter.footprint(dim: 128, clusterCount: 1024, coded: 710_181, m: 15, hidden: 16, rotated: true)! == plain + 4 * 128 * 128)
    }

    /// Tighter budgets code fewer vectors, never fewer than the floor nor more than two thirds.
    @Test func theDefaultCodedShareFollowsTheBudget() {
        let (lo, hi) = PQRouterParameters.codedShareRange
        let budgets: [Double] = [0.01, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 1e6, 0, .infinity, .nan]
        let shares = budgets.map { PQRouterParameters.codedShare(bytesPerVector: $0) }
        #expect(shares.allSatisfy { $0 >= lo && $0 <= hi })
        let finite = shares[0..<12]
        #expect(zip(finite, finite.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(abs(PQRouterParameters.codedShare(bytesPerVector: 4) - 0.4) < 1e-9)
        #expect(PQRouterParameters.codedShare(bytesPerVector: 16) == hi)
        #expect(PQRouterParameters.codedShare(bytesPerVector: 8) > 0.4 && PQRouterParameters.codedShare(bytesPerVector: 8) < hi)
        #expect(PQRouterParameters.codedShare(bytesPerVector: 0.01) == lo)
    }

    static func trained(_ index: PackedIndex, _ problem: RouterProblem, calibration: PQRouter.Calibration,
                        rotation: CodeRotation = .standard) throws -> PQRouter {
        var p = PQRouterParameters(m: 8, coded: problem.index.count / 2)
        p.calibration = calibration
        p.rotation = rotation
        p.rotationRounds = 3
        p.epochs = 4
        p.trainingVectors = 4000
        let (train, held) = problem.examples.split(validation: 0.1)
        return try PQRouterTrainer.train(index, train: train, held: held, parameters: p)
    }

    /// The problem's index packed as `dir`/i.anni and a router trained with the temperature
    /// calibration (rotated) written as `dir`/m.annm.
    static func saved(_ problem: RouterProblem, in dir: String) throws -> (PackedIndex, PQRouter) {
        try problem.index.pack(to: "\(dir)/i.anni")
        let index = try PackedIndex(path: "\(dir)/i.anni")
        let router = try trained(index, problem, calibration: .temperature, rotation: .opq)
        let out = try OutputFile(path: "\(dir)/m.annm")
        try router.write(to: out)
        try out.commit()
        return (index, router)
    }

    /// Both calibrations rank the cluster holding the neighbour first more often than the
    /// centroids do, and the model file gives back the same router, footprint included.
    @Test(arguments: [(PQRouter.Calibration.learned, CodeRotation.opq), (.temperature, .opq), (.learned, .none)])
    func routesBetterThanCentroidsAndRoundTrips(_ calibration: PQRouter.Calibration, _ rotation: CodeRotation) throws {
        let problem = try RouterProblem.get()
        try withTemporaryDirectory { dir in
            try problem.index.pack(to: "\(dir)/i.anni")
            let index = try PackedIndex(path: "\(dir)/i.anni")
            let router = try Self.trained(index, problem, calibration: calibration, rotation: rotation)
            #expect(router.calibration == calibration && (calibration == .learned) == (router.scorer != nil))
            #expect(router.quantizer.rotated == (rotation == .opq))
            #expect(router.offsets.last == problem.index.count / 2 && router.sizes == problem.index.members.map(\.count))
            let ex = problem.examples
            func top1(_ r: ClusterRouter) -> Double {
                let ranks = rankings(routerScores(r, ex.queries, dim: ex.dim), clusters: r.clusterCount)
                return Double(ranks.indices.filter { ex.positives[$0].contains(UInt32(ranks[$0][0])) }.count) / Double(ranks.count)
            }
            let centroid = CentroidRouter(centroids: index.centroids, dim: index.dim, metric: .l2)
            #expect(top1(router) > top1(centroid) + 0.05, "\(top1(router)) against centroid routing's \(top1(centroid))")

            let out = try OutputFile(path: "\(dir)/m.annm")
            try router.write(to: out)
            try out.commit()
            let file = try ModelFile(path: "\(dir)/m.annm", for: index)
            #expect(file.architecture == .pq && file.footprint == router.footprint)
            let back = try #require(try file.router() as? PQRouter)
            let some = Array(ex.queries.prefix(200 * ex.dim))
            #expect(routerScores(back, some, dim: ex.dim) == routerScores(router, some, dim: ex.dim))
            // The footprint is what the body, offsets and norms take.
            #expect(router.footprint == readBytesCount("\(dir)/m.annm") - StreamHeader.size + 8 * 17 + 4 * 16)
        }
    }

    /// The codes follow one index's membership: another index of the same clustering (the
    /// vectors copied into more clusters, as after ann-dup) refuses the model.
    @Test func anotherIndexOfTheSameClusteringIsRefused() throws {
        let problem = try RouterProblem.get()
        try withTemporaryDirectory { dir in
            let (index, _) = try Self.saved(problem, in: dir)
            var copied = problem.index
            copied.clustersOf[5].append((copied.clustersOf[5][0] + 1) % 16)
            try copied.pack(to: "\(dir)/dup.anni")
            let dup = try PackedIndex(path: "\(dir)/dup.anni")
            #expect(dup.fingerprint == index.fingerprint)
            #expect(throws: ANNError.self) { try ModelFile(path: "\(dir)/m.annm", for: dup).router() }
            do {
                _ = try ModelFile(path: "\(dir)/m.annm", for: dup).router()
            } catch let e as ANNError {
                #expect("\(e)".contains("another index"), "\(e)")
            }
            // The same membership packed at another level has other frame checksums: refused too.
            try problem.index.pack(to: "\(dir)/l1.anni", level: 1)
            #expect(throws: ANNError.self) { try ModelFile(path: "\(dir)/m.annm", for: try PackedIndex(path: "\(dir)/l1.anni")).router() }
        }
    }
}

private func readBytesCount(_ path: String) -> Int { (try? readBytes(path).count) ?? -1 }

/// Boundary scores from the centroids nearest a vector's own agree with scoring every centroid.
@Suite struct BoundaryScoreTests {
    @Test(arguments: [Metric.l2, .ip])
    func theNearestCentroidsGiveTheScoresOfAll(_ metric: Metric) throws {
        let f = try IndexFixture.sift(n: 3000, k: 64, metric: metric)
        try withTemporaryDirectory { dir in
            _ = try f.pack(to: "\(dir)/i.anni")
            let index = try PackedIndex(path: "\(dir)/i.anni")
            let all = try PQRouterTrainer.boundaryScores(index, threads: 2, neighbours: 64)
            let near = try PQRouterTrainer.boundaryScores(index, threads: 2, neighbours: 24)
            #expect(all.count == index.entries.reduce(0) { $0 + $1.vectors })
            // What the scores decide is which vectors get a code: those nearest a boundary. The
            // half nearest by the exact scores is, to 1%, the half nearest by the others'.
            func nearestHalf(_ v: [Float]) -> Set<Int> { Set(v.indices.sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(v.count / 2)) }
            let agree = nearestHalf(near).intersection(nearestHalf(all)).count
            #expect(Double(agree) >= 0.99 * Double(all.count / 2), "\(agree) of \(all.count / 2) agree")
        }
    }
}
