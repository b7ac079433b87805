/// The on-disk forms a tool reads and writes: the native stream and the TEXMEX and
/// big-ann-benchmarks layouts (ann-formats(5), FOREIGN FORMATS).
public enum FileFormat: String, CaseIterable, Sendable {
    case native, fvecs, bvecs, ivecs, fbin, u8bin, ibin

    /// The form named by a path's extension, ignoring a trailing `.zst`; nil when the
    /// extension is not one of the foreign ones (which means native).
    public static func fromPath(_ path: String) -> FileFormat? {
        var name = Substring(path)
        if name.hasSuffix(".zst") { name = name.dropLast(4) }
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return nil }
        let ext = name[name.index(after: dot)...].lowercased()
        guard let f = FileFormat(rawValue: ext), f != .native else { return nil }
        return f
    }

    /// TEXMEX: every record carries its own int32 dimension.
    public var isTexmex: Bool { self == .fvecs || self == .bvecs || self == .ivecs }
    /// big-ann-benchmarks: one (n, d) header, then packed values.
    public var isBin: Bool { self == .fbin || self == .u8bin || self == .ibin }

    /// The element type this form stores vectors as; nil for the integer forms.
    public var vectorElementType: ElementType? {
        switch self {
        case .fvecs, .fbin: return .float32
        case .bvecs, .u8bin: return .uint8
        default: return nil
        }
    }

    /// The foreign form that stores vectors of `type` in the same family as `self`.
    public func vectorForm(for type: ElementType) -> FileFormat {
        switch self {
        case .fvecs, .bvecs, .ivecs: return type == .float32 ? .fvecs : .bvecs
        case .fbin, .u8bin, .ibin: return type == .float32 ? .fbin : .u8bin
        case .native: return .native
        }
    }
}
