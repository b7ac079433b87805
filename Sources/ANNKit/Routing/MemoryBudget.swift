/// The memory a router may hold while routing: a number of bytes, or bytes per base vector of
/// the index (the way on-storage systems are compared: DiskANN keeps 16 to 32 per vector).
public enum MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    case bytes(Int)
    case perVector(Double)

    public static let standard = MemoryBudget.perVector(16)

    /// Reads `1234`, `512K`, `12M`, `1G` (powers of 1024, an optional trailing `B`) or
    /// `16B/vector`; nil for anything else.
    public init?(_ text: String) {
        let t = text
        if t.hasSuffix("/vector") {
            var n = String(t.dropLast("/vector".count))
            if n.hasSuffix("B") || n.hasSuffix("b") { n.removeLast() }
            guard let v = Double(n), v.isFinite, v > 0 else { return nil }
            self = .perVector(v)
            return
        }
        var n = t
        if n.hasSuffix("B") || n.hasSuffix("b") { n.removeLast() }
        var unit = 1
        if let last = n.last, let u = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40][last.uppercased()] {
            unit = u
            n.removeLast()
        }
        guard let v = Double(n), v.isFinite, v > 0, v * Double(unit) < 9e18 else { return nil }
        self = .bytes(Int(v * Double(unit)))
    }

    /// The budget in bytes for an index of `baseCount` base vectors.
    public func bytes(baseCount: Int) -> Int {
        switch self {
        case .bytes(let b): return b
        case .perVector(let v): return Int(min(9e18, v * Double(baseCount)))
        }
    }

    public var description: String {
        switch self {
        case .bytes(let b): return "\(b) bytes"
        case .perVector(let v): return "\(v == v.rounded() ? String(Int(v)) : String(v)) B per base vector"
        }
    }
}
