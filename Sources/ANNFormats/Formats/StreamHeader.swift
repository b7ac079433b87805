/// The 32-byte header that starts every native stream (ann-formats(5), THE HEADER). Version 2
/// carries a CRC-32C of its first 24 bytes, so no field that decides decoding is used unverified.
public struct StreamHeader: Equatable, Sendable {
    public static let size = 32
    public static let currentVersion: UInt16 = 2
    /// Where the CRC-32C of bytes 0..<checksumOffset is stored.
    public static let checksumOffset = 24
    public static let unknownCount = UInt64.max

    public var kind: StreamKind
    public var version: UInt16 = StreamHeader.currentVersion
    public var elementType: ElementType?
    public var metric: Metric?
    public var dim: Int
    public var aux: UInt32 = 0
    /// nil when the producer did not know it.
    public var count: Int?

    public init(kind: StreamKind, elementType: ElementType?, metric: Metric?, dim: Int, aux: UInt32 = 0, count: Int?) {
        self.kind = kind
        self.elementType = elementType
        self.metric = metric
        self.dim = dim
        self.aux = aux
        self.count = count
    }

    public func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: StreamHeader.size)
        b.replaceSubrange(0..<4, with: kind.magic)
        b.storeLE(version, at: 4)
        b[6] = elementType?.rawValue ?? 0
        b[7] = metric?.code ?? 0
        b.storeLE(UInt32(dim), at: 8)
        b.storeLE(aux, at: 12)
        b.storeLE(count.map { UInt64($0) } ?? StreamHeader.unknownCount, at: 16)
        b.storeLE(b.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<StreamHeader.checksumOffset])) },
                  at: StreamHeader.checksumOffset)
        return b
    }

    /// Parses and validates a header; `source` names the input in errors.
    public static func decode(_ b: [UInt8], source: String) throws -> StreamHeader {
        func bad(_ m: String) -> ANNError { .badData(source: source, message: m) }
        guard b.count >= size else { throw bad("truncated header (\(b.count) of \(size) bytes)") }
        guard let kind = StreamKind(magic: b) else { throw bad("not an ann-tools stream (bad magic)") }
        let version: UInt16 = b.loadLE(at: 4)
        if version == 1 {
            throw bad("format version 1 of \(kind.noun) has no header checksum and is no longer read; regenerate it with this version")
        }
        guard version == currentVersion else {
            throw bad("format version \(version) of \(kind.noun) is not supported (this build reads version \(currentVersion))")
        }
        // Every field below decides how the rest is read: none is looked at before this check.
        let stored: UInt32 = b.loadLE(at: checksumOffset)
        let computed = b.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<checksumOffset])) }
        guard stored == computed else { throw bad("header checksum mismatch: the header is damaged") }
        let reserved: UInt32 = b.loadLE(at: checksumOffset + 4)
        guard reserved == 0 else { throw bad("reserved header field is not zero") }
        var type: ElementType?
        if b[6] != 0 {
            guard let t = ElementType(rawValue: b[6]) else { throw bad("unknown element type \(b[6])") }
            type = t
        }
        var metric: Metric?
        if b[7] != 0 {
            guard let m = Metric(code: b[7]) else { throw bad("unknown metric code \(b[7])") }
            metric = m
        }
        let dim: UInt32 = b.loadLE(at: 8)
        guard dim > 0 else { throw bad("header dimension is 0") }
        let count: UInt64 = b.loadLE(at: 16)
        guard dim <= 1 << 20 else { throw bad("header dimension \(dim) is too large") }
        guard count == unknownCount || count < 1 << 48 else { throw bad("header count \(count) is too large") }
        var h = StreamHeader(kind: kind, elementType: type, metric: metric, dim: Int(dim), aux: b.loadLE(at: 12),
                             count: count == unknownCount ? nil : Int(count))
        h.version = version
        if kind == .vectors && type == nil { throw bad("vectors without an element type") }
        return h
    }
}
