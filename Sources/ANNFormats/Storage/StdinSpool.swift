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
        let made = try TemporaryFiles.process.createNew(in: dir, for: "temporary copy of stdin") {
            "\(dir)ann-tools-stdin-\(getpid())-\(String(UInt64.random(in: 0..<(1 << 48)), radix: 16))"
        }
        let fd = made.fd
        path = made.path
        registration = made.registration
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
