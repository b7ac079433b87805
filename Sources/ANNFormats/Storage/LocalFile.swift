import Glibc
import Synchronization

/// A regular file read by range with pread(2): the local backend of `RangeReadable`.
public final class LocalFile: RangeReadable {
    public let name: String
    public let size: Int
    private let fd: Int32
    private let counters = Mutex(StorageStatistics())

    /// Opens `path` for reading. Only a regular file has a size to bound every range against,
    /// so anything else is refused.
    public init(path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ANNError.missingInput(source: path, message: errnoText(errno)) }
        var st = stat()
        let size: Int
        do {
            guard fstat(fd, &st) == 0 else { throw ANNError.io(target: path, message: "stat failed: \(errnoText(errno))") }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw ANNError.badData(source: path, message: "not a regular file") }
            guard let s = Int(exactly: st.st_size) else { throw ANNError.badData(source: path, message: "file size \(st.st_size) is not usable") }
            size = s
        } catch {
            Glibc.close(fd)
            throw error
        }
        name = path
        self.fd = fd
        self.size = size
    }

    deinit { Glibc.close(fd) }

    public func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        precondition(buffer.count >= range.count)
        let clock = Stopwatch()
        var done = 0
        defer {
            let waited = clock.seconds
            counters.withLock {
                $0.requests += 1
                $0.waves += 1
                $0.bytes += done
                $0.seconds += waited
            }
        }
        while done < range.count {
            let r = Glibc.pread(fd, buffer.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
            if r > 0 { done += r; continue }
            if r == 0 { break }
            if errno == EINTR { continue }
            throw ANNError.io(target: name, message: "read failed: \(errnoText(errno))")
        }
        return done
    }

    public var statistics: StorageStatistics { counters.withLock { $0 } }

    public func dropCache() {
        fdatasync(fd)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    }
}
