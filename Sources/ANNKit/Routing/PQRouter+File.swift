/// The PQ router's model file (ann-formats(5), ANNM architecture 2) and its memory footprint.
extension PQRouter {
    /// Floats before the codes: the codebooks, the scorer (learned calibration only).
    static func floatCount(dim: Int, hidden: Int) -> Int {
        ProductQuantizer.words * dim + (hidden > 0 ? CandidateScorer.floatCount(hidden: hidden) : 0)
    }

    /// Bytes of the codes of `entries` stored vectors at `m` bytes each, padded to 4.
    static func codeBytes(entries: Int, m: Int) -> Int? {
        let (b, o) = entries.multipliedReportingOverflow(by: m)
        return o || b > Int.max - 3 ? nil : (b + 3) / 4 * 4
    }

    /// The memory a PQ router of these sizes holds while routing, beyond the index directory:
    /// its model body (fixed fields, codebooks, scorer, the two count arrays, digest, codes,
    /// checksum) as it is kept, the cluster offsets and the centroid norms. `coded`: the vectors
    /// with a code.
    public static func footprint(dim: Int, clusterCount k: Int, coded: Int, m: Int, hidden: Int) -> Int? {
        guard let codes = codeBytes(entries: coded, m: m),
              let fixed = fixedFootprint(dim: dim, clusterCount: k, hidden: hidden) else { return nil }
        let (f, o) = fixed.addingReportingOverflow(codes)
        return o ? nil : f
    }

    /// Everything of the footprint but the codes.
    static func fixedFootprint(dim: Int, clusterCount k: Int, hidden: Int) -> Int? {
        guard let words = ModelFile.checkedSum(ofProducts: [[floatCount(dim: dim, hidden: hidden)], [2, k], [1]]) else { return nil }
        return ModelFile.checkedSum(ofProducts: [[ModelFile.fixedSize], [4, words], [4], [8, k + 1], [4, k]])
    }

    /// The largest code size m (1 to `dim`) with which `coded` vectors fit `budget` bytes, or
    /// nil if even m = 1 does not.
    public static func largestCode(fitting budget: Int, dim: Int, clusterCount k: Int, coded: Int, hidden: Int) -> Int? {
        var best: Int?
        for m in 1...dim {
            guard let f = footprint(dim: dim, clusterCount: k, coded: coded, m: m, hidden: hidden), f <= budget else { break }
            best = m
        }
        return best
    }

    public var footprint: Int {
        Self.footprint(dim: dim, clusterCount: clusterCount, coded: offsets[clusterCount], m: quantizer.m, hidden: scorer?.hidden ?? 0)!
    }

    /// Words after the fixed fields of a PQ router with these fields over an index of
    /// `entries` stored vectors. How many of them have a code follows from the footprint the
    /// fixed fields record, bounded here by `entries`; the counts read later must agree.
    static func wordCount(fixed: [UInt8], dim d: Int, clusterCount k: Int, entries: Int, source: String) throws -> Int {
        let m = Int(fixed.loadLE(at: 8) as UInt32), h = Int(fixed.loadLE(at: 18) as UInt16)
        let footprint = fixed.loadLE(at: 24) as UInt64
        func bad(_ message: String) -> ANNError { .badData(source: source, message: message) }
        guard m >= 1 && m <= d else { throw bad("a PQ router of \(m)-byte codes for \(d)-d vectors") }
        guard let most = codeBytes(entries: entries, m: m), let rest = fixedFootprint(dim: d, clusterCount: k, hidden: h),
              footprint <= UInt64(Int.max), Int(footprint) >= rest, Int(footprint) - rest <= most, (Int(footprint) - rest) % 4 == 0 else {
            throw bad("a PQ router recording a footprint of \(footprint) bytes cannot hold codes of \(m) bytes for at most \(entries) vectors: the model is damaged or for another index")
        }
        return floatCount(dim: d, hidden: h) + 2 * k + 1 + (Int(footprint) - rest) / 4
    }

    public func write(to output: OutputFile) throws {
        var fixed = [UInt8](repeating: 0, count: ModelFile.fixedSize)
        fixed.storeLE(fingerprint, at: 0)
        fixed.storeLE(UInt32(quantizer.m), at: 8)
        fixed.storeLE(UInt16(lists), at: 12)
        fixed.storeLE(UInt16(candidates), at: 14)
        fixed[16] = calibration.rawValue
        fixed[17] = ModelFile.Architecture.pq.rawValue
        fixed.storeLE(UInt16(scorer?.hidden ?? 0), at: 18)
        fixed.storeLE(temperature.bitPattern, at: 20)
        let entries = offsets[clusterCount], m = quantizer.m, k = clusterCount
        var suffix = [UInt8](repeating: 0, count: 4 * (2 * k + 1) + Self.codeBytes(entries: entries, m: m)!)
        for c in 0..<k { suffix.storeLE(UInt32(sizes[c]), at: 4 * c) }
        for c in 0..<k { suffix.storeLE(UInt32(offsets[c + 1] - offsets[c]), at: 4 * (k + c)) }
        suffix.storeLE(membership, at: 8 * k)
        codes.withUnsafeBufferPointer { cb in
            suffix.withUnsafeMutableBufferPointer { sb in
                (sb.baseAddress! + 4 * (2 * k + 1)).update(from: cb.baseAddress! + codesStart, count: entries * m)
            }
        }
        try ModelFile.write(to: output, metric: metric, dim: dim, clusterCount: clusterCount, fixed: fixed, footprint: footprint,
                            arrays: [quantizer.codebooks] + (scorer?.arrays ?? []), suffix: suffix)
    }

    /// Reads a PQ router, refusing one whose codes do not follow `index`'s clusters exactly.
    public init(file: ModelFile, index: PackedIndex) throws {
        let d = file.dim, k = file.clusterCount
        let m = file.uint32(at: 8)
        let lists = Int(file.body.loadLE(at: 12) as UInt16), cand = Int(file.body.loadLE(at: 14) as UInt16)
        let h = Int(file.body.loadLE(at: 18) as UInt16)
        guard let calibration = Calibration(rawValue: file.byte(at: 16)) else { throw file.bad("unknown PQ calibration \(file.byte(at: 16))") }
        let t = file.float(at: 20)
        guard lists >= 1 && lists <= k, cand >= 1 else { throw file.bad("\(lists) clusters and \(cand) candidates scored per query") }
        switch calibration {
        case .temperature:
            guard h == 0, t.isFinite, t > 0 else { throw file.bad("a temperature calibration needs T > 0 and no scorer (T = \(t), \(h) hidden units)") }
        case .learned:
            guard h >= 1, t == 0 else { throw file.bad("a learned calibration needs a scorer and T = 0 (T = \(t), \(h) hidden units)") }
        }
        let floats = Self.floatCount(dim: d, hidden: h)
        // ModelFile bounded the word count by the index's vectors and the recorded footprint.
        let codeBytes = 4 * (file.floatCount - floats - 2 * k - 1)
        let a = file.arrays([ProductQuantizer.words * d] + (h > 0 ? [2 * CandidateScorer.featureCount, h * CandidateScorer.featureCount, h, h] : []))
        guard a.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw file.bad("the model holds NaN or infinite weights") }
        let base = ModelFile.fixedSize + 4 * floats
        var sizes = [Int](repeating: 0, count: k), coded = [Int](repeating: 0, count: k)
        for c in 0..<k {
            sizes[c] = file.uint32(at: base + 4 * c)
            coded[c] = file.uint32(at: base + 4 * (k + c))
            guard sizes[c] == index.entries[c].vectors else {
                throw file.bad("the model was trained for another index: cluster \(c) held \(sizes[c]) vectors, in \(index.path) \(index.entries[c].vectors) (train it again after ann-dup or a repack)")
            }
            guard coded[c] <= sizes[c] else { throw file.bad("cluster \(c) has codes for \(coded[c]) of its \(sizes[c]) vectors") }
        }
        let total = coded.reduce(0, +)
        guard Self.codeBytes(entries: total, m: m) == codeBytes else {
            throw file.bad("the model holds \(codeBytes) bytes of codes, its counts call for \(total) codes of \(m) bytes")
        }
        let digest = UInt32(truncatingIfNeeded: file.uint32(at: base + 8 * k))
        guard digest == Self.membership(of: index) else {
            throw file.bad("the model was trained for another index: its cluster membership differs from \(index.path)'s (train it again after ann-dup or a repack)")
        }
        let start = base + 4 * (2 * k + 1)
        guard file.body[(start + total * m)...].allSatisfy({ $0 == 0 }) else { throw file.bad("the padding after the codes is not zero") }
        let half = CandidateScorer.featureCount
        let scorer = h > 0 ? CandidateScorer(hidden: h, mean: Array(a[1][0..<half]), scale: Array(a[1][half...]), w1: a[2], b1: a[3], w2: a[4]) : nil
        self.init(dim: d, metric: file.metric, fingerprint: file.fingerprint, quantizer: ProductQuantizer(dim: d, m: m, codebooks: a[0]),
                  lists: lists, candidates: cand, calibration: calibration, temperature: t, scorer: scorer, membership: digest,
                  codes: file.body, codesStart: start, coded: coded, sizes: sizes, centroids: file.centroids)
        try file.checkFootprint(footprint)
    }
}
