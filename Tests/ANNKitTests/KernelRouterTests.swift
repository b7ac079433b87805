import ANNKit
import Foundation
import Testing

/// The kernel router: one point per cluster at its centroid is centroid routing, the file
/// round trip keeps every weight, the initial points summarise each cluster, the analytic
/// gradients match finite differences, and training lowers the held-out loss reproducibly.
@Suite struct KernelRouterTests {
    func withIndex<T>(_ body: (PackedIndex, String) throws -> T) throws -> T {
        let f = try RouterProblem.get().index
        return try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            return try body(try PackedIndex(path: "\(dir)/i.anni"), dir)
        }
    }

    /// A model file with one fixed byte changed and its checksum made valid again is refused
    /// as bad data, with a message naming `word`.
    func refusesFixedByte(_ bytes: [UInt8], at offset: Int, set value: UInt8, mentioning word: String, index: PackedIndex, dir: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        var patched = bytes
        patched[32 + offset] = value
        let crc = Checksum.crc32c(Array(patched[32..<(patched.count - 4)]))
        for i in 0..<4 { patched[patched.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        try Data(patched).write(to: URL(fileURLWithPath: "\(dir)/patched.annm"))
        let e = annError({ _ = try ModelFile(path: "\(dir)/patched.annm", for: index).router() }, sourceLocation: sourceLocation)
        guard case .badData(_, let message)? = e else {
            Issue.record("expected bad data, got \(String(describing: e))", sourceLocation: sourceLocation)
            return
        }
        #expect(message.contains(word), "\(message)", sourceLocation: sourceLocation)
    }

    /// The initial router for `idx` (4 points per cluster, seed 1), calibrated on the training
    /// half, with both halves.
    func calibratedStart(_ idx: PackedIndex, candidates: Int) throws -> (KernelRouter, RouterExamples, RouterExamples) {
        let (train, held) = try halves()
        var model = try KernelRouterTrainer.initial(for: idx, slots: 4, candidates: candidates, seed: 1)
        model.weight = KernelRouterTrainer.calibrate(model, on: train)
        return (model, train, held)
    }

    /// Training and held-out halves of the problem's queries.
    func halves() throws -> (RouterExamples, RouterExamples) {
        try RouterProblem.get().examples.split(validation: 0.5)
    }

    @Test func onePointAtEachCentroidIsCentroidRouting() throws {
        let problem = try RouterProblem.get()
        let f = problem.index
        let kernel = KernelRouter(dim: f.dim, clusterCount: f.k, slots: 1, metric: .l2, fingerprint: 0, weight: 1e-4,
                                  points: f.centroids, logWeights: [Float](repeating: 0, count: f.k))
        let centroid = CentroidRouter(centroids: f.centroids, dim: f.dim, metric: .l2)
        let q = Array(try SampleData.siftQueries().values.prefix(50 * f.dim))
        #expect(rankings(routerScores(kernel, q, dim: f.dim), clusters: f.k) == rankings(routerScores(centroid, q, dim: f.dim), clusters: f.k))
    }

    /// Candidates restrict the scores to the clusters whose centroids rank first, and leave
    /// theirs exactly as scoring every cluster gives them.
    @Test func candidatesScoreOnlyTheNearestCentroidsClusters() throws {
        try withIndex { idx, _ in
            let f = try RouterProblem.get().index
            var all = try KernelRouterTrainer.initial(for: idx, slots: 4, seed: 2)
            all.weight = 2e-4
            var some = all
            some.candidates = 5
            #expect(all.scoredClusters == f.k && some.scoredClusters == 5)
            let q = Array(try SampleData.siftQueries().values.prefix(40 * f.dim))
            let dense = routerScores(all, q, dim: f.dim), sparse = routerScores(some, q, dim: f.dim)
            let byCentroid = rankings(routerScores(CentroidRouter(centroids: f.centroids, dim: f.dim, metric: .l2), q, dim: f.dim), clusters: f.k)
            for i in 0..<40 {
                let scored = (0..<f.k).filter { sparse[i * f.k + $0] < 1e29 }
                #expect(Set(scored) == Set(byCentroid[i].prefix(5)), "query \(i)")
                for c in scored {
                    #expect(abs(sparse[i * f.k + c] - dense[i * f.k + c]) <= 1e-3 * max(1, abs(dense[i * f.k + c])), "query \(i), cluster \(c)")
                }
            }
            // The threshold rule never fetches a cluster that was not scored.
            for i in 0..<40 {
                let chosen = sparse.withUnsafeBufferPointer {
                    ProbeSelection.threshold(.leastNonzeroMagnitude).choose(scores: $0.baseAddress! + i * f.k, sizes: f.members.map(\.count))
                }
                #expect(Set(chosen).isSubset(of: byCentroid[i].prefix(5)), "query \(i): \(chosen)")
            }
            // More candidates than clusters means all of them.
            some.candidates = f.k + 3
            #expect(some.scoredClusters == f.k && routerScores(some, q, dim: f.dim) == dense)
        }
    }

    @Test func initialPointsSummariseEachCluster() throws {
        try withIndex { idx, _ in
            let f = try RouterProblem.get().index
            let m = 8
            let r = try KernelRouterTrainer.initial(for: idx, slots: m, seed: 3)
            #expect(r.slots == m && r.clusterCount == f.k && r.points.count == f.k * m * f.dim)
            for (c, members) in f.members.enumerated() {
                let weights = r.logWeights[(c * m)..<((c + 1) * m)].filter { $0 != KernelRouter.absent }
                // exp(a) counts the vectors each point took: together, the cluster.
                let total = weights.map { Foundation.exp(Double($0)) }.reduce(0, +)
                #expect(abs(total - Double(members.count)) < 1e-3 * Double(members.count), "cluster \(c)")
                #expect(weights.count >= 1 && weights.count <= min(m, members.count))
            }
            // Reproducible for a seed.
            let again = try KernelRouterTrainer.initial(for: idx, slots: m, seed: 3)
            #expect(again.points == r.points && again.logWeights == r.logWeights)
        }
    }

    @Test func writeLoadRoundTrip() throws {
        try withIndex { idx, dir in
            var r = try KernelRouterTrainer.initial(for: idx, slots: 4, candidates: 6, seed: 1)
            r.weight = 3e-4
            let out = try OutputFile(path: "\(dir)/k.annm")
            try r.write(to: out)
            try out.commit()
            let bytes = try readBytes("\(dir)/k.annm")
            let floats = 16 * 4 * 129
            #expect(Array(bytes.prefix(32)) == Encode.header(magic: "ANNM", type: 1, metric: 1, dim: 128, aux: 16, count: UInt64(floats)))
            #expect(bytes.count == 32 + 32 + 4 * floats + 4 && bytes[32 + 17] == 1)
            let file = try ModelFile(path: "\(dir)/k.annm", for: idx)
            #expect(file.architecture == .kernel)
            let back = try #require(try file.router() as? KernelRouter)
            #expect(back.slots == 4 && back.candidates == 6 && back.weight == r.weight && back.points == r.points && back.logWeights == r.logWeights)
            #expect(bytes[32 + 12] == 6)
            let q = Array(try SampleData.siftQueries().values.prefix(20 * 128))
            #expect(routerScores(back, q, dim: 128) == routerScores(r, q, dim: 128))
            #expect(throws: ANNError.self) { try RouterModel.load("\(dir)/k.annm", for: idx) }
            // One flipped byte in the points: refused.
            var damaged = bytes
            damaged[32 + 32 + 400] ^= 1
            try Data(damaged).write(to: URL(fileURLWithPath: "\(dir)/bad.annm"))
            #expect(throws: ANNError.self) { try ModelFile(path: "\(dir)/bad.annm", for: idx) }
            // As many candidates as clusters, with a valid checksum: refused (0 means all).
            try refusesFixedByte(bytes, at: 12, set: 16, mentioning: "candidate", index: idx, dir: dir)
        }
    }

    /// float16 points: half the file, scores within float16 rounding of the float32 router's,
    /// and training widens them back.
    @Test func halfPointsRoundTrip() throws {
        try withIndex { idx, dir in
            var r = try KernelRouterTrainer.initial(for: idx, slots: 4, candidates: 6, seed: 1)
            r.weight = 3e-4
            let half = r.halved()
            #expect(half.isHalf && half.points.isEmpty && half.widened().points == r.points.map { Float(Float16($0)) })
            let out = try OutputFile(path: "\(dir)/h.annm")
            try half.write(to: out)
            try out.commit()
            let bytes = try readBytes("\(dir)/h.annm")
            #expect(bytes.count == 32 + 32 + 2 * 16 * 4 * 128 + 4 * 16 * 4 + 4 && bytes[32 + 16] == 1)
            let back = try #require(try ModelFile(path: "\(dir)/h.annm", for: idx).router() as? KernelRouter)
            #expect(back.isHalf && back.halfPoints == half.halfPoints && back.logWeights == r.logWeights && back.candidates == 6)
            let q = Array(try SampleData.siftQueries().values.prefix(20 * 128))
            let exact = routerScores(r, q, dim: 128), rounded = routerScores(back, q, dim: 128)
            #expect(routerScores(half, q, dim: 128) == rounded)
            for (a, b) in zip(exact, rounded) where a < 1e29 { #expect(abs(a - b) < 0.02 * max(1, abs(a)), "\(a) vs \(b)") }
            #expect(exact.map { $0 < 1e29 } == rounded.map { $0 < 1e29 })
            // Training widens the points and trains from there, as from the float32 router rounded.
            var p = KernelTrainingParameters()
            p.batch = 128
            let (train, _) = try halves()
            let fromHalf = KernelRouterTrainer(model: back, parameters: p)
            let fromRounded = KernelRouterTrainer(model: half.widened(), parameters: p)
            #expect(!fromHalf.model.isHalf && fromHalf.model.points.count == 16 * 4 * 128)
            _ = fromHalf.epoch(train, spread: [Float](repeating: 1, count: 128))
            _ = fromRounded.epoch(train, spread: [Float](repeating: 1, count: 128))
            #expect(fromHalf.model.points == fromRounded.model.points && fromHalf.model.points != half.widened().points)
            // An unknown precision byte, with a valid checksum: refused.
            try refusesFixedByte(bytes, at: 16, set: 2, mentioning: "precision", index: idx, dir: dir)
        }
    }

    /// With candidates, each query's positives join them in training and in `evaluate` alike,
    /// so the finite differences measure the loss the gradients are of.
    @Test(arguments: [0, 4])
    func gradientsMatchFiniteDifferences(candidates: Int) throws {
        try withIndex { idx, _ in
            let (model, train, _) = try calibratedStart(idx, candidates: candidates)
            let n = 200
            let ex = RouterExamples(dim: 128, queries: Array(train.queries.prefix(n * 128)), positives: Array(train.positives.prefix(n)))
            let trainer = KernelRouterTrainer(model: model, parameters: KernelTrainingParameters())
            _ = trainer.gradients(ex.queries, n: n, positives: ex.positives[...])
            let g = trainer.lastGradients
            func loss(_ m: KernelRouter) -> Double { KernelRouterTrainer.evaluate(m, ex).loss }
            // Central differences on the largest log-weight gradients, log w and a point coordinate.
            let slots = g.logWeights.indices.sorted { abs(g.logWeights[$0]) > abs(g.logWeights[$1]) }.prefix(3)
            for i in slots {
                var up = model, down = model
                up.logWeights[i] += 0.05; down.logWeights[i] -= 0.05
                let numeric = (loss(up) - loss(down)) / 0.1
                #expect(abs(numeric - Double(g.logWeights[i])) < 0.05 * abs(numeric) + 1e-4, "a[\(i)]: \(numeric) vs \(g.logWeights[i])")
            }
            var up = model, down = model
            up.weight *= Float(Foundation.exp(0.02)); down.weight *= Float(Foundation.exp(-0.02))
            let numericW = (loss(up) - loss(down)) / 0.04
            #expect(abs(numericW - Double(g.logWeight)) < 0.05 * abs(numericW) + 1e-4, "log w: \(numericW) vs \(g.logWeight)")
            let j = g.points.indices.max { abs(g.points[$0]) < abs(g.points[$1]) }!
            up = model; down = model
            up.points[j] += 0.5; down.points[j] -= 0.5
            let numericP = (loss(up) - loss(down)) / 1.0
            #expect(abs(numericP - Double(g.points[j])) < 0.05 * abs(numericP) + 1e-4, "s[\(j)]: \(numericP) vs \(g.points[j])")
        }
    }

    @Test(arguments: [0, 6])
    func trainingLowersHeldOutLossReproducibly(candidates: Int) throws {
        try withIndex { idx, _ in
            let (start, train, held) = try calibratedStart(idx, candidates: candidates)
            let before = KernelRouterTrainer.evaluate(start, held)
            func trained(seed: UInt64) -> KernelRouter {
                var p = KernelTrainingParameters()
                p.batch = 128
                p.seed = seed
                p.pointLearningRate = 0.01
                let t = KernelRouterTrainer(model: start, parameters: p)
                for _ in 0..<3 { _ = t.epoch(train, spread: [Float](repeating: 1, count: 128)) }
                return t.model
            }
            let a = trained(seed: 5)
            let after = KernelRouterTrainer.evaluate(a, held)
            #expect(after.loss < before.loss, "\(before.loss) -> \(after.loss)")
            let b = trained(seed: 5)
            #expect(a.logWeights == b.logWeights && a.points == b.points && a.weight == b.weight)
            #expect(trained(seed: 6).logWeights != a.logWeights)
        }
    }
}
