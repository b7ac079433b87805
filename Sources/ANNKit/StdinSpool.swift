import Glibc

/// A copy of stdin in a temporary file, for tools that must read their input twice (train on
/// a sample, then assign everything). The file is removed when the spool is released.
public final class StdinSpool {
    public let path: String

    public init() throws {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(dir)/ann-tools-stdin-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ANNError.cantCreate(target: dir, message: "temporary copy of stdin: \(errnoText(errno))") }
        path = String(cString: template)
        TemporaryFiles.register(path)
        let sink = ByteSink(fd: fd, name: path)
        let source = try FileByteSource(path: nil)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buf.deallocate(); Glibc.close(fd) }
        do {
            while true {
                let n = try source.read(into: buf)
                if n == 0 { break }
                try sink.write(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            }
            try sink.flush()
        } catch {
            unlink(path)
            TemporaryFiles.unregister(path)
            throw error
        }
    }

    deinit {
        unlink(path)
        TemporaryFiles.unregister(path)
    }
}
