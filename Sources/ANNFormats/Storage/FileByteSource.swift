import Glibc

/// A file descriptor read with read(2), retrying on EINTR.
public final class FileByteSource: SeekableSource {
    public let name: String
    public let fd: Int32
    private let owns: Bool

    /// Opens `path`, or stdin for nil or "-"; `name`, if given, is how messages call it.
    public init(path: String?, name displayName: String? = nil) throws {
        if path == nil || path == "-" {
            name = "<stdin>"
            fd = STDIN_FILENO
            owns = false
            return
        }
        let p = path!
        let fd = Glibc.open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ANNError.missingInput(source: p, message: errnoText(errno)) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            Glibc.close(fd)
            throw ANNError.missingInput(source: p, message: "is a directory")
        }
        self.name = displayName ?? p
        self.fd = fd
        owns = true
    }

    deinit { if owns { Glibc.close(fd) } }

    /// The file's size when it is a regular file, else nil (pipes, terminals).
    public var regularFileSize: Int? {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    public func skip(_ count: Int) throws {
        guard lseek(fd, off_t(count), SEEK_CUR) >= 0 else {
            throw ANNError.io(target: name, message: "seek failed: \(errnoText(errno))")
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ANNError.io(target: name, message: "read failed: \(errnoText(errno))")
        }
    }
}
