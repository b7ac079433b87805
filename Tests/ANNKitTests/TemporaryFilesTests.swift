import ANNKit
import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing

/// Temporary outputs: registered before they exist, bounded without losing one, removed by
/// name when the process that wrote them is gone. Tables of their own are used where a test
/// removes everything, since `TemporaryFiles.process` serves the tests running alongside.
@Suite struct TemporaryFilesTests {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func create(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ANNError.cantCreate(target: path, message: "open failed") }
        return fd
    }

    /// Regression: OutputFile created its temporary and registered it after, so a signal in
    /// between left the file behind. The name must be registered when the file is created.
    @Test func aNameIsRegisteredBeforeItsFileExists() throws {
        try withTemporaryDirectory { dir in
            let table = TemporaryFiles(capacity: 4)
            let path = "\(dir)/.x.tmp.1"
            var sawRegistered = false
            let (fd, r) = try table.create(path) {
                sawRegistered = table.paths.contains(path)
                #expect(!Self.exists(path))
                return try Self.create(path)
            }
            close(fd)
            #expect(sawRegistered)
            #expect(Self.exists(path))
            // What a signal handler does: the file goes.
            table.removeAll()
            #expect(!Self.exists(path))
            table.unregister(r)
            #expect(table.paths.isEmpty)
        }
    }

    @Test func aFailedCreationIsUnregistered() throws {
        let table = TemporaryFiles(capacity: 2)
        let e = annError { _ = try table.create("/nonexistent-dir/.x.tmp.1") { try Self.create("/nonexistent-dir/.x.tmp.1") } }
        #expect(e?.exitCode == 73)
        #expect(table.paths.isEmpty)
    }

    /// Full is an error before anything is created, never a file that no handler knows; a
    /// freed slot is used again; removeAll unlinks exactly the registered files.
    @Test func capacityIsBoundedAndRefusedInOneLine() throws {
        try withTemporaryDirectory { dir in
            let table = TemporaryFiles(capacity: 3)
            var regs = [TemporaryFiles.Registration]()
            for i in 0..<3 {
                let (fd, r) = try table.create("\(dir)/f\(i)") { try Self.create("\(dir)/f\(i)") }
                close(fd)
                regs.append(r)
            }
            var called = false
            let full = annError { _ = try table.create("\(dir)/f3") { called = true; return try Self.create("\(dir)/f3") } }
            #expect(full?.exitCode == 73 && full?.description.contains("more than 3 temporary files") == true)
            #expect(!called && !Self.exists("\(dir)/f3"))
            table.unregister(regs[1])
            let (fd, _) = try table.create("\(dir)/f3") { try Self.create("\(dir)/f3") }
            close(fd)
            #expect(Set(table.paths) == ["\(dir)/f0", "\(dir)/f2", "\(dir)/f3"])
            table.removeAll()
            #expect(!Self.exists("\(dir)/f0") && !Self.exists("\(dir)/f2") && !Self.exists("\(dir)/f3"))
            #expect(Self.exists("\(dir)/f1"), "an unregistered file is not the table's to remove")
        }
    }

    @Test func tooLongANameIsRefused() {
        let table = TemporaryFiles(capacity: 1)
        let e = annError { _ = try table.register("/" + String(repeating: "n", count: Int(PATH_MAX) + 1)) }
        #expect(e?.exitCode == 73)
    }

    /// Many threads registering and unregistering at once, with removeAll running beside them
    /// as a handler might: every registration gets its own slot and the table ends empty.
    @Test func registrationIsThreadSafe() {
        let table = TemporaryFiles(capacity: 8)
        let failed = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 9) { t in
            if t == 8 {
                for _ in 0..<2000 { table.removeAll() }
                return
            }
            for i in 0..<2000 {
                do {
                    let name = "/nonexistent-dir/t\(t)-\(i)"
                    let r = try table.register(name)
                    if !table.paths.contains(name) { failed.wrappingAdd(1, ordering: .relaxed) }
                    table.unregister(r)
                } catch {
                    failed.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
        #expect(failed.load(ordering: .relaxed) == 0)
        #expect(table.paths.isEmpty)
    }

    /// OutputFile writes under `.NAME.tmp.PID`, registered in the process table while open,
    /// and unregistered once renamed or removed.
    @Test func outputFileRegistersItsTemporary() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/out.bin"
            let temp = OutputFile.temporaryName(for: path, pid: getpid())
            #expect(temp == "\(dir)/.out.bin.tmp.\(getpid())")
            let out = try OutputFile(path: path)
            #expect(TemporaryFiles.process.paths.contains(temp) && Self.exists(temp))
            try out.sink.write([1, 2, 3])
            try out.commit()
            #expect(!TemporaryFiles.process.paths.contains(temp) && !Self.exists(temp) && Self.exists(path))

            let dropped = try OutputFile(path: "\(dir)/dropped.bin")
            let droppedTemp = OutputFile.temporaryName(for: "\(dir)/dropped.bin", pid: getpid())
            #expect(TemporaryFiles.process.paths.contains(droppedTemp))
            dropped.discard()
            #expect(!TemporaryFiles.process.paths.contains(droppedTemp) && !Self.exists(droppedTemp) && !Self.exists("\(dir)/dropped.bin"))

            // A directory that cannot be written: refused, nothing left registered.
            let e = annError { _ = try OutputFile(path: "\(dir)/missing/x.bin") }
            #expect(e?.exitCode == 73)
            #expect(!TemporaryFiles.process.paths.contains { $0.hasPrefix("\(dir)/missing/") })
        }
    }

    /// A SIGKILL leaves `.NAME.tmp.PID`. Opening NAME removes those of PIDs that no longer run,
    /// and keeps those of running processes, other names, and names that are not a PID.
    @Test func leftoversOfEndedProcessesAreRemoved() throws {
        try withTemporaryDirectory { dir in
            let dead = try endedProcessID(), live = getppid()
            let names = [".x.tmp.\(dead)", ".x.tmp.\(live)", ".x.tmp.1", ".x.tmp.\(dead)x", ".x.tmp.", ".y.tmp.\(dead)", "x.tmp.\(dead)",
                         ".x.tmp.\(dead).tmp.\(dead)"]
            for n in names { close(try Self.create("\(dir)/\(n)")) }
            let removed = OutputFile.removeLeftovers(of: "\(dir)/x")
            #expect(removed == ["\(dir)/.x.tmp.\(dead)"])
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
            #expect(left == Set(names.dropFirst()))

            // Opening the output does the same.
            close(try Self.create("\(dir)/.y.tmp.\(dead)x"))
            let out = try OutputFile(path: "\(dir)/y")
            out.discard()
            #expect(!Self.exists("\(dir)/.y.tmp.\(dead)") && Self.exists("\(dir)/.y.tmp.\(dead)x"))
        }
    }

    /// The copy of stdin is named `ann-tools-stdin-PID-RANDOM`: the same rule by prefix.
    @Test func spoolLeftoversOfEndedProcessesAreRemoved() throws {
        try withTemporaryDirectory { dir in
            let dead = try endedProcessID(), live = getppid()
            let names = ["ann-tools-stdin-\(dead)-1a2b", "ann-tools-stdin-\(live)-1a2b", "ann-tools-stdin-\(dead)", "ann-tools-stdin-x-1"]
            for n in names { close(try Self.create("\(dir)/\(n)")) }
            let removed = TemporaryFiles.removeLeftovers(in: dir + "/", prefix: "ann-tools-stdin-", suffix: true)
            #expect(removed == ["\(dir)/ann-tools-stdin-\(dead)-1a2b"])
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == Set(names.dropFirst()))
        }
    }
}
