import Glibc

/// Buffered writes to a file descriptor, with EINTR retry and the errors a filter needs to
/// tell apart: a reader that went away (`brokenPipe`) and a failed write (`io`).
public final class ByteSink {
    public let name: String
    public let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Bytes accepted so far (buffered or written).
    public private(set) var offset = 0

    public init(fd: Int32, name: String, capacity: Int = 1 << 20) {
        self.fd = fd
        self.name = name
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Whether the descriptor can be written at an offset (a regular file).
    public var isSeekable: Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        offset += bytes.count
        if used + bytes.count > buffer.count {
            try flush()
            if bytes.count >= buffer.count {
                try writeAll(bytes)
                return
            }
        }
        (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        used += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write<T>(value: T) throws {
        try withUnsafeBytes(of: value) { try write($0) }
    }

    public func flush() throws {
        guard used > 0 else { return }
        let n = used
        used = 0
        try writeAll(UnsafeRawBufferPointer(start: buffer.baseAddress, count: n))
    }

    /// Overwrites bytes already written (to fill in a header once the count is known).
    public func patch(_ bytes: [UInt8], at position: Int) throws {
        try flush()
        let r = bytes.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, $0.count, off_t(position)) }
        if r != bytes.count { throw ANNError.io(target: name, message: "write failed: \(errnoText(errno))") }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EPIPE { throw ANNError.brokenPipe }
            throw ANNError.io(target: name, message: "write failed: \(errnoText(n < 0 ? errno : ENOSPC))")
        }
    }
}
