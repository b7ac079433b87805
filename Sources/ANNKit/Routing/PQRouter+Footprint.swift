/// The memory a PQ router holds, which its model records (ann-formats(5), ANNM architecture 2),
/// and the sizes it is computed from.
extension PQRouter {
    /// Floats before the codes: the codebooks, the rotation (if any), the scorer (learned
    /// calibration only).
    static func floatCount(dim: Int, hidden: Int, rotated: Bool) -> Int {
        ProductQuantizer.words * dim + (rotated ? dim * dim : 0) + (hidden > 0 ? CandidateScorer.floatCount(hidden: hidden) : 0)
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
    public static func footprint(dim: Int, clusterCount k: Int, coded: Int, m: Int, hidden: Int, rotated: Bool) -> Int? {
        guard let codes = codeBytes(entries: coded, m: m),
              let fixed = fixedFootprint(dim: dim, clusterCount: k, hidden: hidden, rotated: rotated) else { return nil }
        let (f, o) = fixed.addingReportingOverflow(codes)
        return o ? nil : f
    }

    /// Everything of the footprint but the codes.
    static func fixedFootprint(dim: Int, clusterCount k: Int, hidden: Int, rotated: Bool) -> Int? {
        guard let words = CheckedArithmetic.sum(ofProducts: [[floatCount(dim: dim, hidden: hidden, rotated: rotated)], [2, k], [1]]) else { return nil }
        return CheckedArithmetic.sum(ofProducts: [[ModelLayout.fixedSize], [4, words], [4], [8, k + 1], [4, k]])
    }

    /// The largest code size m (1 to `dim`) with which `coded` vectors fit `budget` bytes, or
    /// nil if even m = 1 does not.
    public static func largestCode(fitting budget: Int, dim: Int, clusterCount k: Int, coded: Int, hidden: Int, rotated: Bool) -> Int? {
        var best: Int?
        for m in 1...dim {
            guard let f = footprint(dim: dim, clusterCount: k, coded: coded, m: m, hidden: hidden, rotated: rotated), f <= budget else { break }
            best = m
        }
        return best
    }

    public var footprint: Int {
        Self.footprint(dim: dim, clusterCount: clusterCount, coded: offsets[clusterCount], m: quantizer.m, hidden: scorer?.hidden ?? 0,
                       rotated: quantizer.rotated)!
    }
}
