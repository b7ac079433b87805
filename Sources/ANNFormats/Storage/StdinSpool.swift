import Glibc

/// A copy of stdin in a temporary file, for tools that must read their input twice (train on
/// a sample, then assign everything). The file is removed when the spool is released.
public final class StdinSpool {
    public let path: String

    private let registration: TemporaryFiles.Registration
    private var removed = false

    /// The spool of this process is `$TMPDIR/ann-tools-stdin-PID-RANDOM` (default /tmp); those
    /// of processes that no longer run are removed first.
    public init() throws {
        var dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if !dir.hasSuffix("/") { dir += "/" }
        TemporaryFiles.removeLeftovers(in: dir, prefix: "ann-tools-stdin-", suffix: true)
        // Named here rather than by mkstemp(3), so that the name is registered before the file
        // exists; O_EXCL keeps mkstemp's guarantee that the file is new.
        var made: (fd: Int32, registration: TemporaryFiles.Registration)?
        var name = ""
        for _ in 0..<100 where made == nil {
            name = "\(dir)ann-tools-stdin-\(getpid())-\(String(UInt64.random(in: 0..<(1 << 48)), radix: 16))"
            let candidate = name
            do {
                made = try TemporaryFiles.process.create(candidate) {
                    let fd = Glibc.open(candidate, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
                    guard fd >= 0 else { throw SpoolError(code: errno) }
                    return fd
                }
            } catch let e as SpoolError where e.code == EEXIST {
                continue
            } catch let e as SpoolError {
                throw ANNError.cantCreate(target: dir, message: "temporary copy of stdin: \(errnoText(e.code))")
            }
        }
        guard let (fd, registration) = made else {
            throw ANNError.cantCreate(target: dir, message: "temporary copy of stdin: \(errnoText(EEXIST))")
        }
        path = name
        self.registration = registration
        let sink = ByteSink(fd: fd, name: path)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buf.deallocate(); Glibc.close(fd) }
        do {
            let source = try FileByteSource(path: nil)
            while true {
                let n = try source.read(into: buf)
                if n == 0 { break }
                try sink.write(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            }
            try sink.flush()
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// Once only: a freed slot may already hold another file's name.
    private func remove() {
        guard !removed else { return }
        removed = true
        unlink(path)
        TemporaryFiles.process.unregister(registration)
    }
}

/// The errno of a failed open, kept apart from the ANNError it becomes so that EEXIST retries.
private struct SpoolError: Error { var code: Int32 }
