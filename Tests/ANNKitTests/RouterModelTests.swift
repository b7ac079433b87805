import ANNKit
import Foundation
import Testing

/// The router model file (ann-formats(5), ANNM): a round trip keeps every weight, a model for
/// another clustering is refused, and a residual model with a zero last layer is centroid routing.
@Suite struct RouterModelTests {
    /// Packs the problem's clustering (optionally with one centroid moved by one ulp: another
    /// clustering of the same shape) and runs `body` on the opened index.
    func withIndex<T>(nudged: Bool = false, _ body: (PackedIndex, String) throws -> T) throws -> T {
        var f = try RouterProblem.get().index
        if nudged { f.centroids[5] = f.centroids[5].nextUp }
        return try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            return try body(try PackedIndex(path: "\(dir)/i.anni"), dir)
        }
    }

    func write(_ m: RouterModel, to path: String) throws {
        let out = try OutputFile(path: path)
        try m.write(to: out)
        try out.commit()
    }

    /// A model whose every array holds distinct values.
    func trainedLooking(_ idx: PackedIndex) throws -> RouterModel {
        var m = try RouterProblem.get().model(hidden: 12, centroidWeight: 3e-4, fingerprint: idx.fingerprint, seed: 7)
        var rng = RandomGenerator(seed: 8)
        m.w3 = m.w3.map { _ in rng.gaussian() * 0.1 }
        m.b1 = m.b1.map { _ in rng.gaussian() }
        m.b2 = m.b2.map { _ in rng.gaussian() }
        m.b3 = m.b3.map { _ in rng.gaussian() }
        return m
    }

    @Test func writeLoadRoundTrip() throws {
        try withIndex { idx, dir in
            let m = try trainedLooking(idx)
            try write(m, to: "\(dir)/m.annm")
            let bytes = try readBytes("\(dir)/m.annm")
            let floats = m.parameterCount + 2 * 128
            #expect(Array(bytes.prefix(32)) == Encode.header(magic: "ANNM", type: 1, metric: 1, dim: 128, aux: 16, count: UInt64(floats)))
            #expect(bytes.count == 32 + 32 + 4 * floats + 4)
            #expect(Array(bytes[32..<40]) == Encode.le(idx.fingerprint))

            let back = try RouterModel.load("\(dir)/m.annm", for: idx)
            #expect(back.dim == 128 && back.clusterCount == 16 && back.hidden1 == 12 && back.hidden2 == 12)
            #expect(back.metric == .l2 && back.fingerprint == idx.fingerprint)
            #expect(back.centroidWeight.bitPattern == m.centroidWeight.bitPattern)
            for (name, a, b) in [("mean", back.mean, m.mean), ("scale", back.scale, m.scale), ("w1", back.w1, m.w1), ("b1", back.b1, m.b1),
                                 ("w2", back.w2, m.w2), ("b2", back.b2, m.b2), ("w3", back.w3, m.w3), ("b3", back.b3, m.b3)] {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(name)")
            }
            // The same weights score the same.
            let q = Array(try SampleData.siftQueries().values.prefix(20 * 128))
            #expect(routerScores(back, q, dim: 128) == routerScores(m, q, dim: 128))
        }
    }

    /// Same dimension, K and metric, one centroid one ulp away: only the fingerprint differs.
    @Test func refusesAModelForAnotherClustering() throws {
        let modelBytes = try withIndex { idx, dir -> [UInt8] in
            try write(try trainedLooking(idx), to: "\(dir)/m.annm")
            return try readBytes("\(dir)/m.annm")
        }
        try withIndex(nudged: true) { other, dir in
            try writeBytes(modelBytes, to: "\(dir)/m.annm")
            let e = annError { _ = try RouterModel.load("\(dir)/m.annm", for: other) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("the model was trained for another clustering") == true, "\(String(describing: e))")
            #expect(e?.description.contains(String(other.fingerprint, radix: 16)) == true)
        }
    }

    @Test func refusesADamagedModel() throws {
        try withIndex { idx, dir in
            try write(try trainedLooking(idx), to: "\(dir)/m.annm")
            let good = try readBytes("\(dir)/m.annm")
            var flipped = good
            flipped[good.count / 2] ^= 0x02
            try writeBytes(flipped, to: "\(dir)/flipped.annm")
            let e = annError { _ = try RouterModel.load("\(dir)/flipped.annm", for: idx) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("checksum mismatch") == true, "\(String(describing: e))")
            try writeBytes(Array(good.dropLast(9)), to: "\(dir)/cut.annm")
            let t = annError { _ = try RouterModel.load("\(dir)/cut.annm", for: idx) }
            #expect(t?.description.contains("truncated model") == true, "\(String(describing: t))")
            // The index itself is not a model.
            let i = annError { _ = try RouterModel.load(idx.name, for: idx) }
            #expect(i?.exitCode == 65)
        }
    }

    /// `bytes` with the header's word count set to `words` and the header CRC recomputed.
    static func claiming(_ words: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        b.replaceSubrange(16..<24, with: Encode.le(words))
        return Encode.resealedHeader(b)
    }

    /// A zstd frame of `bytes`: an input whose size is only known once it has been read.
    static func compressed(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8]()
        try bytes.withUnsafeBytes { try Zstd.compress($0, level: 1, into: &out) }
        return out
    }

    /// A word count inflated in a valid header is refused before the weights are allocated: a
    /// regular file by its size, any input by the words the architecture implies.
    @Test(arguments: [UInt64(1) << 26, UInt64(1) << 31, (UInt64(1) << 32) - 1])
    func inflatedWordCountIsRefused(_ extra: UInt64) throws {
        try withIndex { idx, dir in
            let m = try trainedLooking(idx)
            try write(m, to: "\(dir)/m.annm")
            let good = try readBytes("\(dir)/m.annm")
            let words = UInt64(m.parameterCount + 2 * 128)
            let claim = min(words + extra, (UInt64(1) << 32) - 1)
            let bad = Self.claiming(claim, good)
            try writeBytes(bad, to: "\(dir)/big.annm")
            let e = annError { _ = try RouterModel.load("\(dir)/big.annm", for: idx) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("the header claims \(claim) weights") == true, "\(String(describing: e))")
            #expect(e?.description.contains("the file holds \(good.count) bytes") == true, "\(String(describing: e))")
            try writeBytes(try Self.compressed(bad), to: "\(dir)/big.annm.zst")
            let z = annError { _ = try RouterModel.load("\(dir)/big.annm.zst", for: idx) }
            #expect(z?.exitCode == 65)
            #expect(z?.description.contains("the header claims \(claim) weights, the mlp router's fields imply \(words)") == true,
                    "\(String(describing: z))")
        }
    }

    /// Count and fixed fields inflated together (so they agree) on an input of unknown size: the
    /// body is read as it arrives and found short; the claimed size is never allocated at once.
    @Test func inflatedModelFromAStreamIsRefusedAsItArrives() throws {
        try withIndex { idx, dir in
            let m = try trainedLooking(idx)
            try write(m, to: "\(dir)/m.annm")
            var b = try readBytes("\(dir)/m.annm")
            let h1 = 1 << 20, h2 = 12
            let implied = 2 * 128 + h1 * 128 + h1 + h2 * h1 + h2 + 16 * h2 + 16
            b.replaceSubrange(40..<44, with: Encode.le(UInt32(h1)))
            b = Self.claiming(UInt64(implied), b)
            try writeBytes(try Self.compressed(b), to: "\(dir)/big.annm.zst")
            let e = annError { _ = try RouterModel.load("\(dir)/big.annm.zst", for: idx) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("truncated model (\(b.count - 32) of \(32 + 4 * implied + 4) bytes") == true, "\(String(describing: e))")
            // A stream with more than the header claims is refused too.
            let good = try readBytes("\(dir)/m.annm")
            try writeBytes(try Self.compressed(good + [0]), to: "\(dir)/long.annm.zst")
            let l = annError { _ = try RouterModel.load("\(dir)/long.annm.zst", for: idx) }
            #expect(l?.description.contains("trailing data") == true, "\(String(describing: l))")
            try writeBytes(try Self.compressed(good), to: "\(dir)/ok.annm.zst")
            #expect(try RouterModel.load("\(dir)/ok.annm.zst", for: idx).hidden1 == m.hidden1)
        }
    }

    /// An MLP with a NaN or infinite weight is refused as the kernel router's reader refuses
    /// one: its checksum is right, its routing would be arbitrary.
    @Test(arguments: ["mean", "scale", "w1", "b2", "w3", "b3", "centroid weight"])
    func nonFiniteWeightIsRefused(_ array: String) throws {
        try withIndex { idx, dir in
            var m = try trainedLooking(idx)
            for (i, value) in [Float.nan, .infinity, -.infinity].enumerated() {
                switch array {
                case "mean": m.mean[3] = value
                case "scale": m.scale[0] = value
                case "w1": m.w1[m.w1.count - 1] = value
                case "b2": m.b2[5] = value
                case "w3": m.w3[7] = value
                case "b3": m.b3[15] = value
                default: m.centroidWeight = value
                }
                try write(m, to: "\(dir)/m\(i).annm")
                let e = annError { _ = try RouterModel.load("\(dir)/m\(i).annm", for: idx) }
                #expect(e?.exitCode == 65, "\(array) = \(value)")
                let words = array == "centroid weight" ? "centroid weight" : "NaN or infinite weights"
                #expect(e?.description.contains(words) == true, "\(String(describing: e))")
            }
        }
    }

    /// The reserved fixed bytes (18-19) must be zero even under a valid checksum: a later
    /// version may give them a meaning this reader would ignore. Bytes 24-31 record the
    /// footprint, which must be the one the contents take.
    @Test(arguments: [18, 19, 24, 31])
    func reservedFixedByteIsRefused(_ at: Int) throws {
        try withIndex { idx, dir in
            try write(try trainedLooking(idx), to: "\(dir)/m.annm")
            var b = try readBytes("\(dir)/m.annm")
            b[32 + at] = 1
            let body = Array(b[32..<(b.count - 4)])
            b.replaceSubrange((b.count - 4)..<b.count, with: Encode.le(Checksum.crc32c(body)))
            try writeBytes(b, to: "\(dir)/r.annm")
            let e = annError { _ = try RouterModel.load("\(dir)/r.annm", for: idx) }
            #expect(e?.exitCode == 65)
            let words = at < 24 ? "reserved model bytes are not zero" : "memory footprint"
            #expect(e?.description.contains(words) == true, "\(String(describing: e))")
        }
    }

    /// With its last layer at zero, a residual model scores −w·‖q − c‖² up to a per-query
    /// constant: at w = 1 exactly centroid routing, at any w the same ranking.
    @Test func residualModelWithZeroLastLayerIsCentroidRouting() throws {
        let problem = try RouterProblem.get()
        let f = problem.index
        let centroid = CentroidRouter(centroids: f.centroids, dim: 128, metric: .l2)
        let q = Array(try SampleData.siftQueries().values)
        let expected = rankings(routerScores(centroid, q, dim: 128), clusters: 16)
        let unit = problem.model(centroidWeight: 1, fingerprint: 0)
        #expect(unit.w3.allSatisfy { $0 == 0 } && unit.b3.allSatisfy { $0 == 0 })
        #expect(!unit.w1.allSatisfy { $0 == 0 })
        #expect(rankings(routerScores(unit, q, dim: 128), clusters: 16) == expected)
        // A calibrated temperature scales the scores: the order may differ only where two
        // clusters are within rounding of each other.
        let scaled = problem.model(centroidWeight: 1 / 13_650, fingerprint: 0)
        let exact = routerScores(centroid, q, dim: 128)
        for (i, order) in rankings(routerScores(scaled, q, dim: 128), clusters: 16).enumerated() {
            for (a, b) in zip(order, order.dropFirst()) {
                let sa = exact[i * 16 + a], sb = exact[i * 16 + b]
                #expect(sa <= sb + 1e-5 * max(abs(sa), abs(sb)), "query \(i): cluster \(a) before \(b)")
            }
        }
    }

    /// For ip and cos the centroid term is +w·q·c (the centroids at unit length, as ann-pack
    /// stores them; for cos the queries too, as QueryEngine scales them before routing): with
    /// its last layer at zero a residual model ranks the clusters by decreasing q·c, in double
    /// precision, as the centroid router does, at any weight, up to rounding.
    @Test(arguments: [Metric.ip, .cos])
    func residualModelWithZeroLastLayerRanksBySimilarity(_ metric: Metric) throws {
        let problem = try RouterProblem.get()
        var centroids = problem.index.centroids
        centroids.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: 16, d: 128) }
        var q = Array(try SampleData.siftQueries().values)
        if metric == .cos { q.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: $0.count / 128, d: 128) } }
        let norm = RouterTrainer.normalisation(problem.examples)
        for weight: Float in [1, 1.0 / 300] {
            let model = RouterModel(dim: 128, clusterCount: 16, hidden1: 16, hidden2: 16, metric: metric, centroids: centroids,
                                    fingerprint: 0, centroidWeight: weight, mean: norm.mean, scale: norm.scale, seed: 3)
            #expect(model.w3.allSatisfy { $0 == 0 } && !model.w1.allSatisfy { $0 == 0 })
            let scores = routerScores(model, q, dim: 128)
            for (i, order) in rankings(scores, clusters: 16).enumerated() {
                let qv = q[(i * 128)..<((i + 1) * 128)]
                let dots = (0..<16).map { c in zip(qv, centroids[(c * 128)..<((c + 1) * 128)]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
                let scale = qv.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                for c in 0..<16 {
                    #expect(abs(Double(scores[i * 16 + c]) + Double(weight) * dots[c]) <= 1e-5 * Double(weight) * scale,
                            "weight \(weight) query \(i) cluster \(c)")
                }
                for (a, b) in zip(order, order.dropFirst()) {
                    #expect(dots[a] >= dots[b] - 1e-5 * scale, "weight \(weight) query \(i): cluster \(a) before \(b)")
                }
            }
        }
    }
}
