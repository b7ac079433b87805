/// How a kernel router's points are stored: float16 halves the router's memory (training is
/// float32 either way).
public enum PointPrecision: String, CaseIterable, Sendable {
    case float16, float32

    public static let standard = PointPrecision.float16

    /// Whether the points take two bytes each.
    public var isHalf: Bool { self == .float16 }
}
