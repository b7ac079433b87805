import ANNKit
import Foundation
import Synchronization
import Testing

/// The built tools: SwiftPM puts them next to the test bundle, which is this process.
enum Tools {
    static let directory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }()

    static func path(_ tool: String) -> String { "\(directory)/\(tool)" }
}

/// The package root, found from this file; the bundled data and the man pages live under it.
enum Package {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let data = "\(root)/examples/data"
}

/// What one run of a tool did.
struct RunResult {
    var status: Int32
    /// False when the tool died of a signal (a crash), whatever `status` says.
    var exited: Bool
    var stdout: [UInt8]
    var stderr: String
}

/// A scratch directory for one test: inputs at its top, tool outputs under `out/`, so that
/// "nothing was left behind" is "out/ is empty".
final class Scratch {
    let dir: String
    var out: String { "\(dir)/out" }
    private var runs = 0

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ann-cli-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(dir)/out", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(dir)/io", withIntermediateDirectories: true)
    }

    deinit {
        chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }

    func path(_ name: String) -> String { "\(dir)/\(name)" }
    func output(_ name: String) -> String { "\(out)/\(name)" }

    /// Runs `tool` with stdin from a file (or /dev/null) and stdout/stderr into files: pipes
    /// can deadlock when a tool writes more than a pipe holds before we read.
    @discardableResult
    func run(_ tool: String, _ arguments: [String], stdin: String? = nil) throws -> RunResult {
        try run(executable: Tools.path(tool), arguments, stdin: stdin)
    }

    func run(executable: String, _ arguments: [String], stdin: String? = nil) throws -> RunResult {
        runs += 1
        let outPath = "\(dir)/io/stdout.\(runs)", errPath = "\(dir)/io/stderr.\(runs)"
        try writeBytes([], to: outPath)
        try writeBytes([], to: errPath)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let input = try stdin.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? input.close(); try? output.close(); try? errors.close() }
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        p.waitUntilExit()
        let err = String(decoding: try readBytes(errPath), as: UTF8.self)
        return RunResult(status: p.terminationStatus, exited: p.terminationReason == .exit, stdout: try readBytes(outPath), stderr: err)
    }

    /// Runs `tool` like `run` (arguments must name files by absolute path), and returns its
    /// peak resident set size in bytes as wait4(2) reports it for that one child: a figure no
    /// other test's processes can touch.
    func runMeasured(_ tool: String, _ arguments: [String], stdin: String? = nil) throws -> (result: RunResult, peakBytes: Int) {
        runs += 1
        let outPath = "\(dir)/io/stdout.\(runs)", errPath = "\(dir)/io/stderr.\(runs)"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([Tools.path(tool)] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, Tools.path(tool), &actions, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
        let exited = status & 0x7F == 0
        let err = String(decoding: try readBytes(errPath), as: UTF8.self)
        let result = RunResult(status: exited ? (status >> 8) & 0xFF : status & 0x7F, exited: exited,
                               stdout: try readBytes(outPath), stderr: err)
        return (result, usage.ru_maxrss * 1024)
    }

    func write(_ bytes: [UInt8], to name: String) throws {
        try writeBytes(bytes, to: path(name))
    }

    /// Copies a bundled file, decompressed (see `SampleData`), into the scratch directory.
    func sample(_ name: String) throws -> String {
        try write(try SampleData.bytes(name), to: name)
        return path(name)
    }

    func outputs() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: out) }
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The bundled real data, decompressed once per process by `Zstd.Decoder` straight over the
/// file: tests of other behaviour then do not depend on the tools' own .zst detection, which
/// has tests of its own.
enum SampleData {
    private static let cache = Mutex<[String: [UInt8]]>([:])

    /// `name` without `.zst`, e.g. "siftsmall_base.fvecs".
    static func bytes(_ name: String) throws -> [UInt8] {
        try cache.withLock { files in
            if let b = files[name] { return b }
            let decoder = try Zstd.Decoder(try FileByteSource(path: "\(Package.data)/\(name).zst"))
            var out = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = try buf.withUnsafeMutableBytes { try decoder.read(into: $0) }
                if n == 0 { break }
                out.append(contentsOf: buf[0..<n])
            }
            files[name] = out
            return out
        }
    }

    /// A TEXMEX .fvecs or .bvecs file parsed by hand, as float32.
    static func vectors(_ name: String) throws -> (dim: Int, values: [Float]) {
        let b = try bytes(name)
        let uint8 = name.hasSuffix(".bvecs")
        let dim = Int(b.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
        let record = 4 + dim * (uint8 ? 1 : 4)
        var values = [Float]()
        values.reserveCapacity(b.count / record * dim)
        b.withUnsafeBytes { raw in
            for r in 0..<(b.count / record) {
                for j in 0..<dim {
                    let at = r * record + 4
                    values.append(uint8 ? Float(raw[at + j])
                                        : Float(bitPattern: raw.loadUnaligned(fromByteOffset: at + 4 * j, as: UInt32.self)))
                }
            }
        }
        return (dim, values)
    }
}

/// Little-endian encoders written from ann-formats(5).
enum Encode {
    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func floats(_ v: some Sequence<Float>) -> [UInt8] { v.flatMap { le($0.bitPattern) } }
    static func fvecs(_ v: [Float], dim: Int) -> [UInt8] {
        stride(from: 0, to: v.count, by: dim).flatMap { le(Int32(dim)) + floats(v[$0..<($0 + dim)]) }
    }
    /// A version 2 header: fields, the CRC-32C of bytes 0..<24, four reserved zero bytes.
    static func header(magic: String = "ANNV", version: UInt16 = 2, type: UInt8 = 1, metric: UInt8 = 0, dim: UInt32,
                       aux: UInt32 = 0, count: UInt64) -> [UInt8] {
        let fields = Array(magic.utf8) + le(version) + [type, metric] + le(dim) + le(aux) + le(count)
        return fields + le(Checksum.crc32c(fields)) + le(UInt32(0))
    }

    /// `bytes` with the header CRC (bytes 24..<28) recomputed, as a writer that patched a field would.
    static func resealedHeader(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        b.replaceSubrange(24..<28, with: le(Checksum.crc32c(Array(b[0..<24]))))
        return b
    }
}

/// Exact squared distance of two SIFT vectors: small integers, so exact in any order.
func squaredDistance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
    var s = 0.0
    for (x, y) in zip(a, b) { s += Double(x - y) * Double(x - y) }
    return Float(s)
}

extension Array where Element == Float {
    func row(_ i: Int, _ dim: Int) -> ArraySlice<Float> { self[(i * dim)..<((i + 1) * dim)] }
}

/// A failed run: the exit status, one line on stderr naming the tool, and nothing left in out/.
func expectFailure(_ r: RunResult, tool: String, status: Int32, mentioning words: [String] = [], scratch: Scratch,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard r.exited else {
        // One issue for a crash; the checks below would only repeat it.
        Issue.record("\(tool) died of signal \(r.status): \(r.stderr.prefix(300))", sourceLocation: sourceLocation)
        return
    }
    #expect(r.status == status, "\(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("\(tool): error: "), "\(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasSuffix("\n") && r.stderr.filter { $0 == "\n" }.count == 1, "not one line: \(r.stderr)", sourceLocation: sourceLocation)
    for w in words { #expect(r.stderr.contains(w), "\(r.stderr)", sourceLocation: sourceLocation) }
    #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
    let left = try scratch.outputs()
    #expect(left.isEmpty, "left behind: \(left)", sourceLocation: sourceLocation)
}

func expectSuccess(_ r: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.exited && r.status == 0, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.isEmpty, "\(r.stderr)", sourceLocation: sourceLocation)
}
