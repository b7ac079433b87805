import ANNKit
import Foundation
import Glibc

/// A small text input (a TSV from ann-query --stats or ann-eval sweep), "-" for standard
/// input, with the error a user can act on: missing (66), unreadable (74) or not text (65).
func readTextFile(_ path: String) throws -> String {
    if path == "-" {
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ANNError.io(target: "<stdin>", message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard let text = String(validating: bytes, as: UTF8.self), !text.contains("\0") else {
            throw ANNError.badData(source: "<stdin>", message: "not a text file")
        }
        return text
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ANNError.missingInput(source: path, message: "no such file")
    }
    if isDirectory.boolValue { throw ANNError.missingInput(source: path, message: "is a directory") }
    guard let bytes = FileManager.default.contents(atPath: path) else {
        throw ANNError.io(target: path, message: "cannot read")
    }
    guard let text = String(data: bytes, encoding: .utf8), !text.contains("\0") else {
        throw ANNError.badData(source: path, message: "not a text file")
    }
    return text
}

/// Opens the output `path` (nil or "-" for stdout). Binary output is refused on a terminal,
/// where it would only garble the screen; `text` may go there.
func openOutput(_ path: String?, text: Bool = false) throws -> OutputFile {
    if (path == nil || path == "-") && !text && isatty(STDOUT_FILENO) != 0 {
        throw ANNError.usage("refusing to write binary output to a terminal; use -o FILE or redirect stdout")
    }
    return try OutputFile(path: path)
}

/// Writes a report to stdout unbuffered and checks it: a full disk is an error (74), a
/// reader that went away is a normal end.
func writeStandardOutput(_ text: String) throws {
    var bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + done, $0.count - done) }
        if n < 0 {
            if errno == EINTR { continue }
            if errno == EPIPE { throw ANNError.brokenPipe }
            throw ANNError.io(target: "<stdout>", message: String(cString: strerror(errno)))
        }
        done += n
    }
}

/// Writes a message to stderr, unbuffered as stderr is; one that cannot be written is dropped,
/// as fputs(3) drops it.
func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress! + done, $0.count - done) }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        done += n
    }
}
