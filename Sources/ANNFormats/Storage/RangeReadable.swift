/// An object on storage whose bytes are read by range: a local file (`LocalFile`, pread(2)),
/// and in the same way an object behind HTTP range requests or in S3. The packed index reads
/// its header, trailer, directory and cluster frames through it and never learns which.
///
/// A single range is one request; `read(ranges:into:)` hands several at once to a backend
/// that can keep many in flight (a remote store answers them concurrently), while a local file
/// reads them one after another.
///
/// Threading: reads may run on several threads at once.
public protocol RangeReadable: Sendable {
    /// How errors name the object: a path, or a URL.
    var name: String { get }
    /// The object's size in bytes, fixed while it is open.
    var size: Int { get }

    /// Reads `range` into the start of `buffer` (at least `range.count` bytes). Returns the
    /// bytes read, fewer than `range.count` only where the object ends before the range does;
    /// the caller decides what a short read means. A failed read throws `ANNError.io` with
    /// target `name` and a message beginning "read failed: ".
    func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// Reads each range into the buffer at the same position, as `read(_:into:)` does one,
    /// and returns the bytes read per range. The first failure is thrown; which of the other
    /// ranges were read then is unspecified.
    func read(ranges: [Range<Int>], into buffers: [UnsafeMutableRawBufferPointer]) throws -> [Int]

    /// Asks that the next reads come from the device rather than a cache (for cold-cache
    /// measurements; never needed for correctness). A backend without a cache ignores it.
    func dropCache()
}

extension RangeReadable {
    public func read(ranges: [Range<Int>], into buffers: [UnsafeMutableRawBufferPointer]) throws -> [Int] {
        precondition(ranges.count == buffers.count)
        return try zip(ranges, buffers).map { try read($0, into: $1) }
    }

    public func dropCache() {}
}
