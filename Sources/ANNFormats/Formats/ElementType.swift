/// The stored type of vector values. uint8 stays uint8 on disk and converts to float32 on load.
public enum ElementType: UInt8, Sendable {
    case float32 = 1
    case uint8 = 2

    public var size: Int { self == .float32 ? 4 : 1 }
    public var name: String { self == .float32 ? "float32" : "uint8" }
}
