/// The identity of a base (ann-formats(5), FINGERPRINTS): a 64-bit hash over the element type
/// code, the dimension (uint32) and every vector's stored bytes in id order, so that a packed
/// index or an assignment can be checked against the base it was made from. The container does
/// not matter: .bvecs, .u8bin and native uint8 of the same vectors give the same value.
///
/// FNV-1a 64's basis and prime applied to 8-byte little-endian words (h = (h ^ w) · prime), the
/// last partial word zero-padded, then h ^ (h >> 32). Words rather than bytes keep it at memory speed.
public struct BaseFingerprint: Sendable {
    private static let prime: UInt64 = 0x0000_0100_0000_01B3
    private var h: UInt64 = 0xCBF2_9CE4_8422_2325
    /// Bytes waiting for a full word, in its low `pending` bytes.
    private var word: UInt64 = 0
    private var pending = 0

    /// Starts the hash of a base of `elementType` vectors of dimension `dim`.
    public init(elementType: ElementType, dim: Int) {
        var head = [UInt8](repeating: 0, count: 5)
        head[0] = elementType.rawValue
        head.storeLE(UInt32(truncatingIfNeeded: dim), at: 1)
        head.withUnsafeBytes { update($0) }
    }

    /// Feeds the next stored bytes (whole records or any part of them, in order).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        while pending > 0 && i < n {
            word |= UInt64(bytes[i]) << (8 * UInt64(pending))
            pending += 1
            i += 1
            if pending == 8 {
                h = (h ^ word) &* Self.prime
                word = 0
                pending = 0
            }
        }
        while i + 8 <= n {
            h = (h ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* Self.prime
            i += 8
        }
        while i < n {
            word |= UInt64(bytes[i]) << (8 * UInt64(pending))
            pending += 1
            i += 1
        }
    }

    /// The fingerprint of everything fed so far.
    public var value: UInt64 {
        var f = h
        if pending > 0 { f = (f ^ word) &* Self.prime }
        return f ^ (f >> 32)
    }
}
