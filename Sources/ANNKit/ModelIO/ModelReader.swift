/// Decoding each router kind from a `ModelFile` (ann-formats(5), ANNM): the words its fixed
/// fields imply, checked before any array is read, and the router built from the arrays. The
/// one place that knows every kind's fields; `ModelWriter` writes them.
extension ModelFile {
    /// The router the file holds, whatever its kind.
    public func router() throws -> any ClusterRouter {
        switch architecture {
        case .mlp: return try RouterModel(file: self)
        case .kernel: return try KernelRouter(file: self)
        case .pq: return try PQRouter(file: self, index: index)
        }
    }

    /// The 4-byte words after the fixed fields that a router of kind `architecture` with these
    /// fixed fields has for `dim` and `clusterCount`; refuses fields no router has, and sizes
    /// that do not fit an Int.
    static func wordCount(_ architecture: Architecture, fixed: [UInt8], dim: Int, clusterCount: Int, entries: Int,
                          source: String) throws -> Int {
        switch architecture {
        case .mlp: return try mlpWordCount(fixed: fixed, dim: dim, clusterCount: clusterCount, source: source)
        case .kernel: return try kernelWordCount(fixed: fixed, dim: dim, clusterCount: clusterCount, source: source)
        case .pq: return try pqWordCount(fixed: fixed, dim: dim, clusterCount: clusterCount, entries: entries, source: source)
        }
    }

    /// Words of the arrays of an MLP with these fixed fields: mean, scale, W1, b1, W2, b2, W3, b3.
    static func mlpWordCount(fixed: [UInt8], dim d: Int, clusterCount k: Int, source: String) throws -> Int {
        let h1 = Int(fixed.loadLE(at: 8) as UInt32), h2 = Int(fixed.loadLE(at: 12) as UInt32)
        guard h1 >= 1, h2 >= 1 else { throw ANNError.badData(source: source, message: "hidden layers of \(h1) and \(h2) units") }
        guard let n = CheckedArithmetic.sum(ofProducts: [[2, d], [h1, d], [h1], [h2, h1], [h2], [k, h2], [k]]) else {
            throw ANNError.badData(source: source, message: "an MLP \(d)→\(h1)→\(h2)→\(k) is too large to hold")
        }
        return n
    }

    /// Words of the arrays of a kernel router with these fixed fields: the points (float32, or
    /// float16 padded to 4 bytes), then one log-weight per point.
    static func kernelWordCount(fixed: [UInt8], dim d: Int, clusterCount k: Int, source: String) throws -> Int {
        let m = Int(fixed.loadLE(at: 8) as UInt32), precision = fixed[16]
        guard m >= 1 else { throw ANNError.badData(source: source, message: "a kernel router needs at least one point per cluster") }
        guard precision <= 1 else { throw ANNError.badData(source: source, message: "unknown point precision \(precision): 0 is float32, 1 float16") }
        let values = CheckedArithmetic.sum(ofProducts: [[k, m, d]])
        // Float16 points take (2 · values + 3) / 4 words; float32 points one each.
        let pointWords = values.flatMap { v in precision == 1 ? CheckedArithmetic.sum(ofProducts: [[2, v], [3]]).map { $0 / 4 } : v }
        guard let pw = pointWords, let n = CheckedArithmetic.sum(ofProducts: [[pw], [k, m]]) else {
            throw ANNError.badData(source: source, message: "a kernel router of \(k) clusters of \(m) points in \(d) dimensions is too large to hold")
        }
        return n
    }

    /// Words after the fixed fields of a PQ router with these fields over an index of
    /// `entries` stored vectors. How many of them have a code follows from the footprint the
    /// fixed fields record, bounded here by `entries`; the counts read later must agree.
    static func pqWordCount(fixed: [UInt8], dim d: Int, clusterCount k: Int, entries: Int, source: String) throws -> Int {
        let m = Int(fixed.loadLE(at: 8) as UInt32), h = Int(fixed.loadLE(at: 18) as UInt16)
        let rotated = PQRouter.mode(fixed[16]).rotated
        let footprint = fixed.loadLE(at: 24) as UInt64
        func bad(_ message: String) -> ANNError { .badData(source: source, message: message) }
        guard m >= 1 && m <= d else { throw bad("a PQ router of \(m)-byte codes for \(d)-d vectors") }
        guard let most = PQRouter.codeBytes(entries: entries, m: m), let rest = PQRouter.fixedFootprint(dim: d, clusterCount: k, hidden: h, rotated: rotated),
              footprint <= UInt64(Int.max), Int(footprint) >= rest, Int(footprint) - rest <= most, (Int(footprint) - rest) % 4 == 0 else {
            throw bad("a PQ router recording a footprint of \(footprint) bytes cannot hold codes of \(m) bytes for at most \(entries) vectors: the model is damaged or for another index")
        }
        return PQRouter.floatCount(dim: d, hidden: h, rotated: rotated) + 2 * k + 1 + (Int(footprint) - rest) / 4
    }
}

extension RouterModel {
    /// Reads an MLP model and binds it to `index`, refusing a model trained for another clustering.
    public static func load(_ path: String, for index: PackedIndex) throws -> RouterModel {
        let file = try ModelFile(path: path, for: index)
        guard file.architecture == .mlp else { throw file.bad("is a \(file.architecture) router, not an MLP") }
        return try RouterModel(file: file)
    }

    public init(file: ModelFile) throws {
        let d = file.dim, k = file.clusterCount
        let h1 = file.uint32(at: 8), h2 = file.uint32(at: 12)
        guard file.body[16] == 1 else { throw file.bad("unknown activation \(file.body[16])") }
        // ModelFile checked the word count against these fields before reading the arrays.
        let counts = [d, d, h1 * d, h1, h2 * h1, h2, k * h2, k]
        guard counts.reduce(0, +) == file.floatCount else { throw file.bad("weights do not match the architecture \(d)→\(h1)→\(h2)→\(k)") }
        let centroidWeight = file.float(at: 20)
        guard centroidWeight.isFinite && centroidWeight >= 0 else {
            throw file.bad("centroid weight \(centroidWeight) is not a finite non-negative number")
        }
        self.init(dim: d, clusterCount: k, hidden1: 1, hidden2: 1, metric: file.metric, centroids: file.centroids,
                  fingerprint: file.fingerprint, centroidWeight: centroidWeight, mean: [], scale: [], seed: 0)
        hidden1 = h1
        hidden2 = h2
        let a = file.arrays(counts)
        guard a.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw file.bad("the model holds NaN or infinite weights") }
        mean = a[0]; scale = a[1]; w1 = a[2]; b1 = a[3]; w2 = a[4]; b2 = a[5]; w3 = a[6]; b3 = a[7]
        try file.checkFootprint(footprint)
    }
}

extension KernelRouter {
    public init(file: ModelFile) throws {
        let d = file.dim, k = file.clusterCount, m = file.uint32(at: 8), c = file.uint32(at: 12)
        guard m >= 1 else { throw file.bad("a kernel router needs at least one point per cluster") }
        guard c < k else { throw file.bad("\(c) candidate clusters of \(k): 0 means all") }
        let precision = file.byte(at: 16)
        guard precision <= 1 else { throw file.bad("unknown point precision \(precision): 0 is float32, 1 float16") }
        let words = precision == 1 ? Self.halfBytes(k * m * d) / 4 + k * m : k * m * (d + 1)
        guard words == file.floatCount else { throw file.bad("weights do not match \(k) clusters of \(m) points in \(d) dimensions") }
        let w = file.float(at: 20)
        guard w.isFinite && w > 0 else { throw file.bad("kernel weight \(w) is not a positive number") }
        if precision == 1 {
            let half = file.halfArray(k * m * d)
            let a = file.arrays([k * m], from: Self.halfBytes(k * m * d))[0]
            guard half.allSatisfy(\.isFinite), a.allSatisfy(\.isFinite) else { throw file.bad("the model holds NaN or infinite weights") }
            self.init(dim: d, clusterCount: k, slots: m, candidates: c, metric: file.metric, fingerprint: file.fingerprint, weight: w,
                      points: [], halfPoints: half, logWeights: a, centroids: file.centroids)
        } else {
            let a = file.arrays([k * m * d, k * m])
            guard a[0].allSatisfy(\.isFinite), a[1].allSatisfy(\.isFinite) else { throw file.bad("the model holds NaN or infinite weights") }
            self.init(dim: d, clusterCount: k, slots: m, candidates: c, metric: file.metric, fingerprint: file.fingerprint, weight: w,
                      points: a[0], logWeights: a[1], centroids: file.centroids)
        }
        try file.checkFootprint(footprint)
    }
}

extension PQRouter {
    /// Reads a PQ router, refusing one whose codes do not follow `index`'s clusters exactly.
    public init(file: ModelFile, index: PackedIndex) throws {
        let d = file.dim, k = file.clusterCount
        let m = file.uint32(at: 8)
        let lists = Int(file.body.loadLE(at: 12) as UInt16), cand = Int(file.body.loadLE(at: 14) as UInt16)
        let h = Int(file.body.loadLE(at: 18) as UInt16)
        let mode = file.byte(at: 16), (known, rotated) = Self.mode(mode)
        guard let calibration = known else { throw file.bad("unknown PQ calibration \(mode)") }
        let t = file.float(at: 20)
        guard lists >= 1 && lists <= k, cand >= 1 else { throw file.bad("\(lists) clusters and \(cand) candidates scored per query") }
        switch calibration {
        case .temperature:
            guard h == 0, t.isFinite, t > 0 else { throw file.bad("a temperature calibration needs T > 0 and no scorer (T = \(t), \(h) hidden units)") }
        case .learned:
            guard h >= 1, t == 0 else { throw file.bad("a learned calibration needs a scorer and T = 0 (T = \(t), \(h) hidden units)") }
        }
        let floats = Self.floatCount(dim: d, hidden: h, rotated: rotated)
        // ModelFile bounded the word count by the index's vectors and the recorded footprint.
        let codeBytes = 4 * (file.floatCount - floats - 2 * k - 1)
        let a = file.arrays([ProductQuantizer.words * d, rotated ? d * d : 0]
                            + (h > 0 ? [2 * CandidateScorer.featureCount, h * CandidateScorer.featureCount, h, h] : []))
        guard a.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw file.bad("the model holds NaN or infinite weights") }
        let base = ModelLayout.fixedSize + 4 * floats
        var sizes = [Int](repeating: 0, count: k), coded = [Int](repeating: 0, count: k)
        for c in 0..<k {
            sizes[c] = file.uint32(at: base + 4 * c)
            coded[c] = file.uint32(at: base + 4 * (k + c))
            guard sizes[c] == index.entries[c].vectors else {
                throw file.bad("the model was trained for another index: cluster \(c) held \(sizes[c]) vectors, in \(index.name) \(index.entries[c].vectors) (train it again after ann-dup or a repack)")
            }
            guard coded[c] <= sizes[c] else { throw file.bad("cluster \(c) has codes for \(coded[c]) of its \(sizes[c]) vectors") }
        }
        let total = coded.reduce(0, +)
        guard Self.codeBytes(entries: total, m: m) == codeBytes else {
            throw file.bad("the model holds \(codeBytes) bytes of codes, its counts call for \(total) codes of \(m) bytes")
        }
        let digest = UInt32(truncatingIfNeeded: file.uint32(at: base + 8 * k))
        guard digest == Self.membership(of: index) else {
            throw file.bad("the model was trained for another index: its cluster membership differs from \(index.name)'s (train it again after ann-dup or a repack)")
        }
        let start = base + 4 * (2 * k + 1)
        guard file.body[(start + total * m)...].allSatisfy({ $0 == 0 }) else { throw file.bad("the padding after the codes is not zero") }
        let half = CandidateScorer.featureCount
        let scorer = h > 0 ? CandidateScorer(hidden: h, mean: Array(a[2][0..<half]), scale: Array(a[2][half...]), w1: a[3], b1: a[4], w2: a[5]) : nil
        if rotated { try Self.checkOrthogonal(a[1], dim: d, file: file) }
        self.init(dim: d, metric: file.metric, fingerprint: file.fingerprint,
                  quantizer: ProductQuantizer(dim: d, m: m, codebooks: a[0], rotation: a[1]),
                  lists: lists, candidates: cand, calibration: calibration, temperature: t, scorer: scorer, membership: digest,
                  codes: file.body, codesStart: start, coded: coded, sizes: sizes, centroids: file.centroids)
        try file.checkFootprint(footprint)
    }
}

extension PQRouter {
    /// Refuses a stored rotation that is not orthogonal (R·Rᵀ = I to 1e-3): any other matrix
    /// would change the distances the codes estimate.
    static func checkOrthogonal(_ r: [Float], dim d: Int, file: ModelFile) throws {
        var g = [Float](repeating: 0, count: d * d)
        r.withUnsafeBufferPointer { rb in
            g.withUnsafeMutableBufferPointer { gb in
                BLAS.gemmABt(m: d, n: d, k: d, alpha: 1, a: rb.baseAddress!, lda: d, b: rb.baseAddress!, ldb: d, beta: 0, c: gb.baseAddress!, ldc: d)
            }
        }
        for i in 0..<d {
            for j in 0..<d where abs(g[i * d + j] - (i == j ? 1 : 0)) > 1e-3 {
                throw file.bad("the PQ router's rotation is not orthogonal (row \(i) · row \(j) = \(g[i * d + j]))")
            }
        }
    }
}
