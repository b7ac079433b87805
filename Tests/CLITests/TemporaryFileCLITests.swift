import ANNKit
import Foundation
import Glibc
import Testing

/// Partial outputs: a tool killed at any moment, by a termination signal or by a crash, leaves
/// no `.NAME.tmp.PID`; one that a SIGKILL left is removed by the next run writing NAME once its
/// process is gone.
@Suite struct TemporaryFileCLITests {
    /// A tool started with its stdin on a FIFO that never ends: it reads the `prefix` bytes
    /// written there, opens its outputs and waits for more, so it can be signalled mid-run.
    final class Stalled {
        let process = Process()
        private let fifo: Int32

        init(_ tool: String, _ arguments: [String], scratch s: Scratch, prefix: [UInt8], tmpdir: String? = nil) throws {
            let name = s.path("fifo-\(UUID().uuidString)")
            guard mkfifo(name, 0o600) == 0 else { throw SetupFailed(description: "mkfifo: \(errno)") }
            // Read-write: opening does not wait for a writer, and the tool never sees an end.
            fifo = Glibc.open(name, O_RDWR | O_CLOEXEC)
            guard fifo >= 0 else { throw SetupFailed(description: "open fifo: \(errno)") }
            // The prefix fits in the pipe's buffer, so this does not block.
            precondition(prefix.count <= 32768)
            _ = prefix.withUnsafeBytes { Glibc.write(fifo, $0.baseAddress!, $0.count) }
            // Through the shell only to switch core dumps off; exec keeps the PID the tool's.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -c 0; exec \"$0\" \"$@\"", Tools.path(tool)] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: s.dir)
            if let tmpdir { process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": tmpdir]) { $1 } }
            process.standardInput = FileHandle(fileDescriptor: fifo, closeOnDealloc: false)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        deinit {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            Glibc.close(fifo)
        }

        /// Waits up to `seconds` for `path` to exist.
        func waitFor(_ path: String, seconds: Double = 20) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if access(path, F_OK) == 0 { return true }
                guard process.isRunning else { return false }
                usleep(2000)
            }
            return false
        }

        /// Sends `signal` and waits for the end; a tool still running 20 s later is killed
        /// (and so fails the test by SIGKILL instead of hanging it).
        func kill(_ signal: Int32) -> (reason: Process.TerminationReason, status: Int32) {
            Glibc.kill(process.processIdentifier, signal)
            let end = Date().addingTimeInterval(20)
            while process.isRunning && Date() < end { usleep(1000) }
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return (process.terminationReason, process.terminationStatus)
        }
    }

    /// The first `n` records of siftsmall's base as .fvecs bytes.
    static func prefix(_ n: Int) throws -> [UInt8] { Array(try SampleData.bytes("siftsmall_base.fvecs").prefix(n * 516)) }

    static func leftovers(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp.") || $0.hasPrefix("ann-tools-stdin-") }
    }

    /// What each tool is run as: it writes -o under out/ (and ann-kmeans a stdin spool into
    /// the TMPDIR given), reading its main input from stdin.
    static func runs(_ s: Scratch, centroids: String, assignments: String) -> [(tool: String, arguments: [String], output: String)] {
        [("ann-pack", ["--from", "fvecs", "--centroids", centroids, "--assignments", assignments, "-o", s.output("i.anni")], ".i.anni.tmp."),
         ("ann-kmeans", ["-k", "4", "--from", "fvecs", "-o", s.output("c.fvecs")], ".c.fvecs.tmp."),
         ("ann-kmeans", ["-k", "4", "--sample", "50", "--from", "fvecs", "--assignments", s.output("a.anna"), "-o", s.output("c.fvecs")],
          "ann-tools-stdin-")]
    }

    /// Regression: the temporary was created before its cleanup was registered, so a SIGTERM
    /// in the first ~60 ms could leave one. Signals at moments from before the handlers exist
    /// to well after the output is open: every run dies of the signal, and leaves nothing.
    @Test func terminationAtAnyEarlyMomentLeavesNoTemporary() throws {
        let s = try Scratch()
        let f = try s.siftIndex(k: 4, iters: 2)
        let tmpdir = s.output("tmp")
        try FileManager.default.createDirectory(atPath: tmpdir, withIntermediateDirectories: true)
        let prefix = try Self.prefix(60)
        for run in Self.runs(s, centroids: f.centroids, assignments: f.assignments) {
            for micros in [0, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000, 120000] {
                let t = try Stalled(run.tool, run.arguments, scratch: s, prefix: prefix, tmpdir: tmpdir)
                if micros > 0 { usleep(UInt32(micros)) }
                let end = t.kill(micros % 2 == 0 ? SIGTERM : SIGINT)
                #expect(end.reason == .uncaughtSignal && (end.status == SIGTERM || end.status == SIGINT),
                        "\(run.tool) after \(micros) µs: \(end)")
                let left = try Self.leftovers(s.out) + Self.leftovers(tmpdir)
                #expect(left.isEmpty, "\(run.tool) after \(micros) µs left \(left)")
            }
            // And once the temporary surely exists.
            let t = try Stalled(run.tool, run.arguments, scratch: s, prefix: prefix, tmpdir: tmpdir)
            let dir = run.output.hasPrefix("ann-tools-stdin-") ? tmpdir : s.out
            let name = run.output.hasPrefix("ann-tools-stdin-") ? "\(dir)/\(run.output)\(t.process.processIdentifier)-"
                                                                  : "\(dir)/\(run.output)\(t.process.processIdentifier)"
            let seen = waitForPrefix(name, process: t)
            #expect(seen, "\(run.tool): \(name) never appeared")
            #expect(t.kill(SIGTERM).status == SIGTERM)
            #expect(try Self.leftovers(s.out).isEmpty && Self.leftovers(tmpdir).isEmpty, "\(run.tool)")
        }
        #expect(try s.outputs() == ["tmp"])
    }

    /// Waits for a file whose path starts with `prefix`.
    func waitForPrefix(_ prefix: String, process t: Stalled) -> Bool {
        let dir = (prefix as NSString).deletingLastPathComponent, start = (prefix as NSString).lastPathComponent
        let end = Date().addingTimeInterval(20)
        while Date() < end && t.process.isRunning {
            if (try? FileManager.default.contentsOfDirectory(atPath: dir))?.contains(where: { $0.hasPrefix(start) }) == true { return true }
            usleep(2000)
        }
        return false
    }

    /// Regression: only SIGINT, SIGTERM and SIGHUP removed temporaries; a crash (a Swift
    /// runtime trap is SIGILL or SIGTRAP, an abort SIGABRT, a bad access SIGSEGV or SIGBUS)
    /// left `.NAME.tmp.PID`. Each such signal still ends the tool as itself (status 128+N in a
    /// shell), and the temporary is gone.
    @Test func aCrashLeavesNoTemporary() throws {
        let s = try Scratch()
        let f = try s.siftIndex(k: 4, iters: 2)
        let prefix = try Self.prefix(60)
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT, SIGQUIT, SIGHUP, SIGXFSZ] {
            let t = try Stalled("ann-pack", ["--from", "fvecs", "--centroids", f.centroids, "--assignments", f.assignments, "-o", s.output("i.anni")],
                                scratch: s, prefix: prefix)
            let temp = s.output(".i.anni.tmp.\(t.process.processIdentifier)")
            #expect(t.waitFor(temp), "signal \(signal): the temporary never appeared")
            let end = t.kill(signal)
            #expect(end.reason == .uncaughtSignal && end.status == signal, "signal \(signal): \(end)")
            let left = try s.outputs()
            #expect(left.isEmpty, "signal \(signal) left \(left)")
        }
    }

    /// A SIGKILL cannot be caught: its `.NAME.tmp.PID` stays until a run writing NAME finds
    /// that PID gone. One of a running process stays; other names are not touched.
    @Test func aLeftoverOfAnEndedProcessIsRemovedByTheNextRun() throws {
        let s = try Scratch()
        let queries = try s.sample("siftsmall_query.fvecs")
        // A real leftover: ann-pack killed outright while writing.
        let f = try s.siftIndex(k: 4, iters: 2)
        let t = try Stalled("ann-pack", ["--from", "fvecs", "--centroids", f.centroids, "--assignments", f.assignments, "-o", s.output("i.anni")],
                            scratch: s, prefix: try Self.prefix(60))
        let killed = s.output(".i.anni.tmp.\(t.process.processIdentifier)")
        #expect(t.waitFor(killed))
        #expect(t.kill(SIGKILL).status == SIGKILL)
        #expect(access(killed, F_OK) == 0, "a SIGKILL leaves the temporary")
        let live = s.output(".i.anni.tmp.\(getpid())"), other = s.output(".c.fvecs.tmp.\(t.process.processIdentifier)")
        try writeBytes([1], to: live)
        try writeBytes([2], to: other)

        expectSuccess(try s.run("ann-pack", ["--centroids", f.centroids, "--assignments", f.assignments, "-o", s.output("i.anni"), f.base]))
        #expect(access(killed, F_OK) != 0, "the leftover of the ended process is removed")
        #expect(access(live, F_OK) == 0, "a running process's temporary is kept")
        #expect(access(other, F_OK) == 0, "another output's leftover is that output's to remove")
        #expect(try PackedIndex(path: s.output("i.anni")).vectorCount == 10_000)

        // ann-kmeans writing c.fvecs removes the other one, whatever tool left it.
        expectSuccess(try s.run("ann-kmeans", ["-k", "4", "--iters", "2", "-o", s.output("c.fvecs"), queries]))
        #expect(access(other, F_OK) != 0)
        #expect(Set(try s.outputs()) == ["i.anni", "c.fvecs", ".i.anni.tmp.\(getpid())"])
    }
}
