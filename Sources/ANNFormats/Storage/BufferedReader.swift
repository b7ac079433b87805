/// Buffered exact reads over a `ByteSource`, with look-ahead for format detection.
/// One reusable buffer; callers copy straight into their own storage.
public final class BufferedReader: ByteSource {
    public let source: ByteSource
    public var name: String { source.name }
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var eof = false
    /// Bytes handed to callers so far.
    public private(set) var offset = 0

    public init(_ source: ByteSource, capacity: Int = 1 << 20) {
        self.source = source
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    private func refill() throws {
        if start > 0 {
            let live = end - start
            if live > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: live) }
            start = 0
            end = live
        }
        while !eof && end < buffer.count {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if n == 0 { eof = true } else { end += n }
            if n > 0 { break }
        }
    }

    /// Up to `count` bytes from the current position without consuming them.
    public func peek(_ count: Int) throws -> [UInt8] {
        precondition(count <= buffer.count)
        while end - start < count && !eof { try refill() }
        return Array(buffer[start..<min(end, start + count)])
    }

    /// Fills `dest` as far as the input allows; returns the bytes copied (short only at end).
    public func read(into dest: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < dest.count {
            if start == end {
                if eof { break }
                // Large reads bypass the buffer: no second copy on the hot path.
                if dest.count - done >= buffer.count {
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: dest[done...]))
                    if n == 0 { eof = true } else { done += n }
                    continue
                }
                try refill()
                continue
            }
            let n = min(end - start, dest.count - done)
            (dest.baseAddress! + done).copyMemory(from: buffer.baseAddress! + start, byteCount: n)
            start += n
            done += n
        }
        offset += done
        return done
    }

    /// Reads one little-endian integer, or nil at a clean end of input.
    public func readLE<T: FixedWidthInteger>(_: T.Type) throws -> (value: T?, partial: Int) {
        var v: T = 0
        let n = try withUnsafeMutableBytes(of: &v) { try read(into: $0) }
        if n == MemoryLayout<T>.size { return (T(littleEndian: v), n) }
        return (nil, n)
    }

    /// Moves `count` bytes forward: what is buffered first, then by seeking a source that can,
    /// else by reading and discarding.
    public func skip(_ count: Int) throws {
        let buffered = min(count, end - start)
        start += buffered
        var left = count - buffered
        if left > 0, let seekable = source as? SeekableSource {
            try seekable.skip(left)
            left = 0
        }
        while left > 0 {
            if start == end {
                if eof { break }
                try refill()
                continue
            }
            let n = min(end - start, left)
            start += n
            left -= n
        }
        offset += count - left
    }

    /// True when no byte is left.
    public func atEnd() throws -> Bool {
        if start < end { return false }
        try refill()
        return start == end
    }
}
