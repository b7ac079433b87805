import Foundation

/// A new directory under the system's temporary directory, named `prefix` and a UUID: tests
/// run in parallel, so each needs its own.
public func makeTemporaryDirectory(prefix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs `body` in a fresh directory that is removed afterwards.
public func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let dir = try makeTemporaryDirectory(prefix: "ann-kit-tests")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

public func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

public func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// A PID that has run and ended: that of a child reaped here. The temporaries of such a
/// process are leftovers that may be removed.
public func endedProcessID() throws -> pid_t {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/true")
    try p.run()
    p.waitUntilExit()
    return p.processIdentifier
}
