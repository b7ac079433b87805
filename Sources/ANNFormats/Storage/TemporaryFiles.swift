import Glibc
import Synchronization

/// The temporary files in flight (outputs before their rename, the copy of stdin), removed on
/// error and by the tools' signal handlers (the zstd(1) behaviour on Ctrl-C).
///
/// A name is registered before its file is created (`create`), so there is no moment at which
/// the file exists and a signal would not find it. The names live in storage allocated once,
/// each slot with an atomic state, so that `removeAll` neither allocates nor locks and may run
/// in a signal handler, on any thread, while other threads register and unregister.
///
/// Threading: every method may be called from any thread.
public final class TemporaryFiles: @unchecked Sendable {
    // Unchecked: the pointers never change after init, and a slot passes between threads only through its atomic state.
    /// The table of this process: what every `OutputFile` and `StdinSpool` registers, and what
    /// the tools' signal handlers remove. Touch it once before installing a handler that reads
    /// it, so that the handler never runs its lazy initialisation.
    public static let process = TemporaryFiles(capacity: 64)

    /// A registered name, handed back to `unregister`.
    public struct Registration: Sendable {
        public let path: String
        fileprivate let slot: Int
    }

    /// How many names may be registered at once; one more is refused, never silently left out.
    public let capacity: Int
    private static let nameBytes = Int(PATH_MAX) + 1
    private let names: UnsafeMutablePointer<CChar>
    /// Per slot: `free`, `filling` (a name being copied in: skipped by `removeAll`, and its file
    /// does not exist yet) or `live`.
    private let states: UnsafeMutablePointer<Atomic<Int>>
    private static let free = 0, filling = 1, live = 2

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        names = .allocate(capacity: capacity * Self.nameBytes)
        names.initialize(repeating: 0, count: capacity * Self.nameBytes)
        states = .allocate(capacity: capacity)
        for i in 0..<capacity { (states + i).initialize(to: Atomic(Self.free)) }
    }

    deinit {
        states.deinitialize(count: capacity)
        states.deallocate()
        names.deallocate()
    }

    /// Registers `path` for removal. Throws `cantCreate` when the table is full or the name
    /// too long: an output that could not be cleaned up is not started.
    public func register(_ path: String) throws -> Registration {
        let bytes = path.utf8CString
        guard bytes.count <= Self.nameBytes else {
            throw ANNError.cantCreate(target: path, message: "name too long for a temporary file")
        }
        for i in 0..<capacity {
            guard states[i].compareExchange(expected: Self.free, desired: Self.filling, ordering: .acquiring).exchanged else { continue }
            bytes.withUnsafeBufferPointer { (names + i * Self.nameBytes).update(from: $0.baseAddress!, count: $0.count) }
            states[i].store(Self.live, ordering: .releasing)
            return Registration(path: path, slot: i)
        }
        throw ANNError.cantCreate(target: path, message: "more than \(capacity) temporary files open at once")
    }

    /// Forgets a name, once its file has been renamed into place or removed.
    public func unregister(_ registration: Registration) {
        states[registration.slot].store(Self.free, ordering: .releasing)
    }

    /// Registers `path`, then runs `make` to create the file and return its descriptor; if
    /// `make` throws, the name is unregistered again. The order is the point: a signal between
    /// the two finds a name whose file does not exist yet, which is harmless, while the other
    /// order leaves a window in which a created file is unknown to the handler.
    public func create(_ path: String, _ make: () throws -> Int32) throws -> (fd: Int32, registration: Registration) {
        let r = try register(path)
        do {
            return (try make(), r)
        } catch {
            unregister(r)
            throw error
        }
    }

    /// An anonymous read-write file in $TMPDIR (default /tmp), for scratch data that must never
    /// outlive the process: O_TMPFILE, which has no name for a signal to leave behind; where the
    /// file system lacks it, a named file registered before it exists and unlinked at once.
    /// Returns its descriptor and the directory it lives in; `purpose` and `prefix` name it.
    public func anonymous(for purpose: String, prefix: String) throws -> (fd: Int32, directory: String) {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        // open(2)'s O_TMPFILE (__O_TMPFILE | O_DIRECTORY), which Glibc's module does not export.
        let fd = Glibc.open(dir, 0o20_000_000 | O_DIRECTORY | O_RDWR | O_CLOEXEC, 0o600)
        if fd >= 0 { return (fd, dir) }
        let made = try createNew(in: dir, for: purpose) { "\(dir)/\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }
        unlink(made.path)
        unregister(made.registration)
        return (made.fd, dir)
    }

    /// Creates a file that did not exist (O_EXCL, mode 0600, read-write) under a name drawn by
    /// `name`, registered before it exists as `create` does: what mkstemp(3) guarantees, with
    /// the name known to the signal handlers first. A name already taken draws another, up to
    /// 100 times. A failed open is `cantCreate` of `directory`, the message naming `purpose`; a
    /// full table throws as `register` does.
    public func createNew(in directory: String, for purpose: String,
                          named name: () -> String) throws -> (fd: Int32, registration: Registration, path: String) {
        var code = EEXIST
        for _ in 0..<100 where code == EEXIST {
            let candidate = name()
            do {
                let (fd, registration) = try create(candidate) {
                    let fd = Glibc.open(candidate, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
                    guard fd >= 0 else { throw OpenFailed(code: errno) }
                    return fd
                }
                return (fd, registration, candidate)
            } catch let e as OpenFailed {
                code = e.code
            }
        }
        throw ANNError.cantCreate(target: directory, message: "\(purpose): \(errnoText(code))")
    }

    /// The registered names (allocates: not for signal handlers).
    public var paths: [String] {
        (0..<capacity).compactMap { i in
            states[i].load(ordering: .acquiring) == Self.live ? String(cString: names + i * Self.nameBytes) : nil
        }
    }

    /// Unlinks every registered file. Async-signal-safe: reads the fixed storage and calls
    /// unlink(2) only. A slot freed and refilled by another thread while this runs may be read
    /// half-written; the process is dying then, and the worst case is an unlink that fails.
    public func removeAll() {
        var i = 0
        while i < capacity {
            if states[i].load(ordering: .acquiring) == Self.live { unlink(names + i * Self.nameBytes) }
            i += 1
        }
    }

    /// Removes the files of `directory` ("" or a path ending in "/") named `prefix`, a PID and,
    /// with `suffix`, "-" and anything: the temporaries of processes killed outright (SIGKILL
    /// cannot be caught). Only those of a PID that does not exist (kill(pid, 0) fails with
    /// ESRCH) go; this process's own and any other running process's are kept. Returns the
    /// names removed.
    @discardableResult
    public static func removeLeftovers(in directory: String, prefix: String, suffix: Bool) -> [String] {
        guard let d = opendir(directory.isEmpty ? "." : directory) else { return [] }
        defer { closedir(d) }
        let me = getpid()
        var removed = [String]()
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            guard name.hasPrefix(prefix) else { continue }
            let rest = name.utf8.dropFirst(prefix.utf8.count)
            let digits = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            let tail = rest.dropFirst(digits.count)
            guard (1...10).contains(digits.count), suffix ? tail.first == UInt8(ascii: "-") : tail.isEmpty,
                  let pid = pid_t(String(decoding: digits, as: UTF8.self)), pid > 0, pid != me else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            if unlink(directory + name) == 0 { removed.append(directory + name) }
        }
        return removed
    }
}

/// The errno of a failed open in `createNew`, kept apart from the error it becomes so that a
/// name already taken draws another.
private struct OpenFailed: Error { var code: Int32 }
