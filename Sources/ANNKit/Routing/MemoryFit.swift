/// Sizes a router to a memory budget: the largest of each kind that fits.
public enum MemoryFit {
    /// Refuses a router whose `footprint` exceeds `budget`.
    public static func check(_ footprint: Int, budget: Int, memory: MemoryBudget, what: String) throws {
        guard footprint <= budget else {
            throw ANNError.usage("\(what) holds \(megabytes(footprint)) in memory, over the budget of \(memory) (\(megabytes(budget)))")
        }
    }

    /// The widest hidden layers an MLP gets by default.
    public static let widestMLP = 512

    /// The widest MLP up to `widestMLP` units that fits.
    public static func mlpWidth(index: PackedIndex, budget: Int, memory: MemoryBudget) throws -> Int {
        let fits = { (h: Int) in RouterModel.footprint(dim: index.dim, clusterCount: index.clusterCount, hidden1: h, hidden2: h) <= budget }
        guard fits(1) else { throw tooSmall(memory, budget, "an MLP", RouterModel.footprint(dim: index.dim, clusterCount: index.clusterCount, hidden1: 1, hidden2: 1)) }
        var h = 1
        while h < widestMLP && fits(h + 1) { h += 1 }
        return h
    }

    /// The most points per cluster up to `cap` that fit.
    public static func kernelPoints(index: PackedIndex, cap: Int, half: Bool, budget: Int, memory: MemoryBudget) throws -> Int {
        let size = { (m: Int) in KernelRouter.footprint(clusterCount: index.clusterCount, slots: m, dim: index.dim, half: half) }
        guard size(1) <= budget else { throw tooSmall(memory, budget, "a kernel router", size(1)) }
        var m = 1
        while m < cap && size(m + 1) <= budget { m += 1 }
        return m
    }

    /// The code size and the number of coded vectors of a PQ router that fits: `share` of the
    /// stored vectors coded with the largest code that fits, or, where even `dim` bytes leave
    /// room, as many vectors as fit at `dim` bytes.
    public static func pqCode(index: PackedIndex, share: Double, hidden: Int, rotated: Bool, budget: Int,
                              memory: MemoryBudget) throws -> (m: Int, coded: Int) {
        let entries = index.entries.reduce(0) { $0 + $1.vectors }
        let d = index.dim, k = index.clusterCount
        let coded = max(1, min(entries, Int((share * Double(entries)).rounded(.up))))
        guard let m = PQRouter.largestCode(fitting: budget, dim: d, clusterCount: k, coded: coded, hidden: hidden, rotated: rotated) else {
            let least = PQRouter.footprint(dim: d, clusterCount: k, coded: coded, m: 1, hidden: hidden, rotated: rotated) ?? Int.max
            throw tooSmall(memory, budget, "a PQ router", least)
        }
        guard m == d, let rest = PQRouter.fixedFootprint(dim: d, clusterCount: k, hidden: hidden, rotated: rotated) else { return (m, coded) }
        var more = min(entries, (budget - rest) / d)
        while more > coded, let f = PQRouter.footprint(dim: d, clusterCount: k, coded: more, m: d, hidden: hidden, rotated: rotated), f > budget { more -= 1 }
        return (d, max(coded, more))
    }

    static func tooSmall(_ memory: MemoryBudget, _ budget: Int, _ what: String, _ least: Int) -> ANNError {
        .usage("a memory budget of \(memory) (\(megabytes(budget))) is too small for \(what): it needs at least \(least) bytes")
    }

    /// Bytes as megabytes with two decimals (or bytes below 10 kB).
    public static func megabytes(_ b: Int) -> String {
        b < 10_000 ? "\(b) bytes" : "\(Double(b / 10_000) / 100) MB"
    }
}
