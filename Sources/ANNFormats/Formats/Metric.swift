/// How two vectors are compared. Internally every search minimises a distance; for the
/// similarity metrics that distance is the negated similarity, flipped back when written.
public enum Metric: String, CaseIterable, Sendable {
    /// Squared Euclidean distance.
    case l2
    /// Inner product (larger is nearer).
    case ip
    /// Cosine similarity: inner product of vectors scaled to unit length.
    case cos

    /// The code stored in the stream header.
    public var code: UInt8 {
        switch self {
        case .l2: return 1
        case .ip: return 2
        case .cos: return 3
        }
    }

    public init?(code: UInt8) {
        switch code {
        case 1: self = .l2
        case 2: self = .ip
        case 3: self = .cos
        default: return nil
        }
    }

    /// Whether larger stored values mean nearer.
    public var isSimilarity: Bool { self != .l2 }

    /// Converts an internal distance (smaller is nearer) to the value written in files.
    @inline(__always)
    public func external(_ internalDistance: Float) -> Float {
        isSimilarity ? -internalDistance : internalDistance
    }
}
