import Glibc

/// Where a tool writes: stdout, a device or pipe written in place, or a regular file written
/// under a temporary name and renamed on success, so that a failed run never leaves a
/// plausible-looking file behind.
public final class OutputFile {
    public let path: String?
    public let sink: ByteSink
    private let tempPath: String?
    private var registration: TemporaryFiles.Registration?
    private var done = false
    /// For an `s3://` output: where the staged file goes when it is complete.
    private let upload: Upload?

    /// Opens `path` for writing; nil or "-" is stdout, written as it is (whether binary may go
    /// to a terminal is for the caller to decide).
    public init(path: String?) throws {
        if path == nil || path == "-" {
            self.path = nil
            tempPath = nil
            registration = nil
            upload = nil
            sink = ByteSink(fd: STDOUT_FILENO, name: "<stdout>")
            return
        }
        let p = path!
        self.path = p
        if p.contains("://") {
            let staged = try Self.stage(p)
            upload = staged.upload
            tempPath = nil
            registration = nil
            sink = ByteSink(fd: staged.fd, name: p)
            return
        }
        var st = stat()
        if lstatOrStat(p, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            guard (st.st_mode & S_IFMT) != S_IFDIR else { throw ANNError.cantCreate(target: p, message: "is a directory") }
            let fd = Glibc.open(p, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ANNError.cantCreate(target: p, message: errnoText(errno)) }
            tempPath = nil
            registration = nil
            upload = nil
            sink = ByteSink(fd: fd, name: p)
            return
        }
        let temp = Self.temporaryName(for: p, pid: getpid())
        Self.removeLeftovers(of: p)
        // Registered before it is created: a signal at any moment finds it (see TemporaryFiles).
        let (fd, registration) = try TemporaryFiles.process.create(temp) {
            let fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else { throw ANNError.cantCreate(target: p, message: errnoText(errno)) }
            return fd
        }
        tempPath = temp
        upload = nil
        self.registration = registration
        sink = ByteSink(fd: fd, name: p)
    }

    /// The name `path` is written under until it is complete: `.NAME.tmp.PID` beside it.
    public static func temporaryName(for path: String, pid: pid_t) -> String {
        let (dir, base) = split(path)
        return "\(dir).\(base).tmp.\(pid)"
    }

    /// Removes the temporaries `.NAME.tmp.PID` that earlier runs writing `path` left behind
    /// when they were killed outright (SIGKILL, power loss): those of a PID that no longer
    /// runs. Returns the names removed. A PID that runs is kept, even when it is another
    /// program's by now: a leftover is only ever removed when it cannot be in use.
    @discardableResult
    public static func removeLeftovers(of path: String) -> [String] {
        let (dir, base) = split(path)
        return TemporaryFiles.removeLeftovers(in: dir, prefix: ".\(base).tmp.", suffix: false)
    }

    /// The directory part with its slash ("" for none) and the file name.
    private static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    deinit { discard() }

    /// For an `s3://` output: an anonymous file to write it to (nothing to leave behind), and
    /// where it goes when it is complete.
    private static func stage(_ p: String) throws -> (fd: Int32, upload: Upload) {
        guard case .s3(let bucket, let key) = try ObjectLocation(p) else {
            throw ANNError.usage("\(p): outputs go to a path or an s3:// URL")
        }
        let configuration = try S3Configuration.fromEnvironment()
        let (fd, _) = try TemporaryFiles.process.anonymous(for: "staging of \(p)", prefix: "ann-tools-upload")
        return (fd, Upload(bucket: bucket, key: key, configuration: configuration))
    }

    private struct Upload {
        let bucket: String
        let key: String
        let configuration: S3Configuration
    }

    /// Flushes and moves the output into place (for an `s3://` output: uploads it whole).
    public func commit() throws {
        guard !done else { return }
        try sink.flush()
        done = true
        if let upload, let p = path {
            defer { Glibc.close(sink.fd) }
            var st = stat()
            guard fstat(sink.fd, &st) == 0 else { throw ANNError.io(target: p, message: "staging failed: \(errnoText(errno))") }
            try S3Upload.upload(fd: sink.fd, size: Int(st.st_size), bucket: upload.bucket, key: upload.key, name: p,
                                configuration: upload.configuration)
            return
        }
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
            if let r = registration { TemporaryFiles.process.unregister(r) }
            registration = nil
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
        if let t = tempPath, let r = registration {
            unlink(t)
            TemporaryFiles.process.unregister(r)
            registration = nil
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
