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
        dir = try makeTemporaryDirectory(prefix: "ann-cli-tests")
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
