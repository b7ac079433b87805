/// Fixed-width integers in a byte array, little-endian as every format stores them.
/// Inlinable: the index and model readers above call these per field.
extension Array where Element == UInt8 {
    @inlinable
    public mutating func storeLE<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: v.littleEndian, toByteOffset: offset, as: T.self) }
    }

    @inlinable
    public func loadLE<T: FixedWidthInteger>(at offset: Int) -> T {
        withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
