/// A sequential source of bytes: a file, stdin, or a decompressor over either.
public protocol ByteSource: AnyObject {
    /// How errors name this source: a path or `<stdin>`.
    var name: String { get }
    /// Reads up to `buffer.count` bytes; returns 0 only at end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A source that can move forward without reading (a regular file): slices of an input are
/// read by position.
public protocol SeekableSource: ByteSource {
    /// Moves `count` bytes forward; reading past the end later reads nothing.
    func skip(_ count: Int) throws
}
