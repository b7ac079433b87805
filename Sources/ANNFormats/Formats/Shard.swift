/// The i-th of n contiguous slices of an input's records, 0-based: of N records, slice i holds
/// ⌊N/n⌋ of them, one more for each i below N mod n, in order, so the n slices cover every
/// record once and their concatenation is the input. A record keeps its position in the whole
/// input as its id, so results of slices are results of the whole.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The most slices an input may be cut into.
    public static let maxCount = 1 << 20

    public init(index: Int, count: Int) throws {
        guard count >= 1, count <= Self.maxCount, index >= 0, index < count else {
            throw ANNError.usage("shard \(index)/\(count): want i/N with 0 <= i < N <= \(Self.maxCount)")
        }
        self.index = index
        self.count = count
    }

    /// Reads "i/N".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ANNError.usage("shard \(text): want i/N, such as 0/4 for the first of 4 slices")
        }
        try self.init(index: i, count: n)
    }

    /// The records of slice `index` among `total`.
    public func records(of total: Int) -> Range<Int> {
        let base = total / count, extra = total % count
        let lo = index * base + min(index, extra)
        return lo..<(lo + base + (index < extra ? 1 : 0))
    }

    public var description: String { "\(index)/\(count)" }
}
