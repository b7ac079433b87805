import Glibc

/// Where a tool writes: stdout, a device or pipe written in place, or a regular file written
/// under a temporary name and renamed on success, so that a failed run never leaves a
/// plausible-looking file behind.
public final class OutputFile {
    public let path: String?
    public let sink: ByteSink
    private let tempPath: String?
    private var done = false

    /// Opens `path` for writing; nil or "-" is stdout, which must not be a terminal unless
    /// the output is `text`.
    public init(path: String?, text: Bool = false) throws {
        if path == nil || path == "-" {
            guard text || isatty(STDOUT_FILENO) == 0 else {
                throw ANNError.usage("refusing to write binary output to a terminal; use -o FILE or redirect stdout")
            }
            self.path = nil
            tempPath = nil
            sink = ByteSink(fd: STDOUT_FILENO, name: "<stdout>")
            return
        }
        let p = path!
        self.path = p
        var st = stat()
        if lstatOrStat(p, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            guard (st.st_mode & S_IFMT) != S_IFDIR else { throw ANNError.cantCreate(target: p, message: "is a directory") }
            let fd = Glibc.open(p, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ANNError.cantCreate(target: p, message: errnoText(errno)) }
            tempPath = nil
            sink = ByteSink(fd: fd, name: p)
            return
        }
        let slash = p.lastIndex(of: "/")
        let dir = slash.map { String(p[...$0]) } ?? ""
        let base = slash.map { String(p[p.index(after: $0)...]) } ?? p
        let temp = "\(dir).\(base).tmp.\(getpid())"
        let fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ANNError.cantCreate(target: p, message: errnoText(errno)) }
        tempPath = temp
        sink = ByteSink(fd: fd, name: p)
        TemporaryFiles.register(temp)
    }

    deinit { discard() }

    /// Flushes and moves the output into place.
    public func commit() throws {
        guard !done else { return }
        try sink.flush()
        done = true
        if sink.fd != STDOUT_FILENO {
            let closed = Glibc.close(sink.fd)
            if closed != 0 {
                let e = errno
                removeTemp()
                throw ANNError.io(target: sink.name, message: "write failed: \(errnoText(e))")
            }
        }
        if let t = tempPath, let p = path {
            if rename(t, p) != 0 {
                let e = errno
                removeTemp()
                throw ANNError.cantCreate(target: p, message: errnoText(e))
            }
            TemporaryFiles.unregister(t)
        }
    }

    /// Abandons the output: the temporary file is removed and nothing appears under the name.
    public func discard() {
        guard !done else { return }
        done = true
        if sink.fd != STDOUT_FILENO { Glibc.close(sink.fd) }
        removeTemp()
    }

    private func removeTemp() {
        if let t = tempPath {
            unlink(t)
            TemporaryFiles.unregister(t)
        }
    }
}

/// stat(2) by path; Swift sees the struct and the function under one name, so call it apart.
private func lstatOrStat(_ path: String, _ st: inout stat) -> Int32 {
    let fd = Glibc.open(path, 0o10000000 | O_CLOEXEC)
    guard fd >= 0 else { return -1 }
    defer { Glibc.close(fd) }
    return fstat(fd, &st)
}
